//! Adaptive delivery end to end: IKD-ASN 2025 as an adaptive instrument (`irt` model,
//! `[delivery]` with the `mfi` selector plugin) served by a real `ikd serve`. A session
//! takes the items `NextItems` names one at a time until the stopping rule holds; saves
//! off the test's path are refused; submit waits for the stopping rule unless the person
//! stops; the result records the administration, and its domain scores are the `irt`
//! model's EAP on exactly the items given — the θ and SE that stopped each domain.

use super::*;
use ikd_tests::adaptive::{ADAPTIVE_ID, adaptive_ikd_asn};
use ikd_tests::web::some_cell;

/// SE(θ) at which a domain stops: about 5–7 of its 11–13 items at the bank's information.
const SE_TARGET: f64 = 0.5;
/// The `[missing] min_answered` of IKD-ASN 2025, so every finished domain is scored.
const MIN_ITEMS: usize = 5;

fn adaptive_ref() -> Option<api::InstrumentRef> {
    Some(api::InstrumentRef {
        id: ADAPTIVE_ID.into(),
        version: String::new(),
    })
}

/// A server with the bundled instruments and the adaptive one.
fn start_adaptive(dir: &tempfile::TempDir) -> TestServer {
    let instruments = dir.path().join("instruments");
    adaptive_ikd_asn(
        &instruments,
        "mfi",
        &format!("se_target = {SE_TARGET}\nmin_items_per_domain = {MIN_ITEMS}\nrandomesque = 1"),
    );
    let mut options = ServerOptions::new(dir.path());
    options.args = vec![
        "--instrument".into(),
        instruments.display().to_string(),
        "--instrument".into(),
        workspace().join("instruments").display().to_string(),
    ];
    TestServer::start(options)
}

/// The adaptive instrument as the API presents it.
async fn adaptive_instrument(client: &mut Assessment) -> api::Instrument {
    client
        .get_instrument(api::GetInstrumentRequest {
            instrument: adaptive_ref(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn start_session(client: &mut Assessment, respondent: &str) -> String {
    client
        .start_session(api::StartSessionRequest {
            instrument: adaptive_ref(),
            respondent_id: respondent.into(),
            org_unit: "36.72/diskominfo".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id
}

async fn next(client: &mut Assessment, session: &str) -> api::NextItemsResponse {
    client
        .next_items(api::NextItemsRequest {
            session_id: session.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn save(
    client: &mut Assessment,
    session: &str,
    request_id: &str,
    item: &str,
    value: &str,
) -> Result<api::SaveAnswersResponse, tonic::Status> {
    client
        .save_answers(api::SaveAnswersRequest {
            session_id: session.into(),
            request_id: request_id.into(),
            answers: vec![api::Answer {
                item_id: item.into(),
                value: value.into(),
            }],
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn submit(
    client: &mut Assessment,
    session: &str,
    end_early: bool,
) -> Result<api::SubmitSessionResponse, tonic::Status> {
    client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.into(),
            language: "en".into(),
            end_early,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The example respondent's answer to `item`, or a valid cell from the item's
/// presentation where the example has none.
fn answer_of(example: &Example, instrument: &api::Instrument, item: &str) -> String {
    let given = example
        .answers
        .iter()
        .find(|a| a.item_id == item)
        .map(|a| a.value.as_str())
        .filter(|v| !v.is_empty() && *v != "NA");
    match given {
        Some(v) => v.to_owned(),
        None => {
            let k = instrument.items.iter().position(|i| i.id == item).unwrap();
            some_cell(instrument.items[k].presentation.as_ref().unwrap(), k)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_session_gives_items_until_the_stopping_rule_and_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_adaptive(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let instrument = adaptive_instrument(&mut client).await;
    assert_eq!(
        (instrument.delivery.as_str(), instrument.model.as_str()),
        ("adaptive", "irt")
    );
    let example = &examples()[0];
    let session = start_session(&mut client, &example.id).await;

    // Nothing saved: the first item of the first domain, at the prior.
    let first = next(&mut client, &session).await;
    assert_eq!(first.item_ids.len(), 1);
    assert!(first.item_ids[0].starts_with("LD"), "{first:?}");
    assert!(!first.stopped && first.steps.is_empty());
    assert_eq!(first.max_items, 60);

    // Off the path: another item, a skip of the item given now, and submitting now.
    let other = if first.item_ids[0] == "LD01" {
        "LD02"
    } else {
        "LD01"
    };
    let refused = save(&mut client, &session, "r-other", other, "3")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("cannot save answers"),
        "{refused:?}"
    );
    let violations = refused.get_details_bad_request().expect("field violations");
    assert_eq!(
        violations.field_violations[0].field,
        format!("answers[{other}]")
    );
    assert!(
        violations.field_violations[0]
            .description
            .contains(&first.item_ids[0]),
        "names the item given now: {violations:?}"
    );
    let skipped = save(&mut client, &session, "r-skip", &first.item_ids[0], "").await;
    assert_eq!(skipped.unwrap_err().code(), Code::InvalidArgument);
    let early = submit(&mut client, &session, false).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(early.message().contains("is not over"), "{early:?}");

    // Take the test: each answer moves it on; a retried save changes nothing.
    let mut given: Vec<String> = Vec::new();
    let mut last = first;
    while let Some(item) = last.item_ids.first().cloned() {
        let value = answer_of(example, &instrument, &item);
        let request_id = format!("r-{}", given.len());
        let saved = save(&mut client, &session, &request_id, &item, &value)
            .await
            .unwrap();
        assert!(!saved.replayed);
        given.push(item.clone());
        let replay = save(&mut client, &session, &request_id, &item, &value)
            .await
            .unwrap();
        assert!(replay.replayed, "a retried request is a replay");
        last = next(&mut client, &session).await;
        assert_eq!(last.steps.len(), given.len());
        assert_eq!(last.steps.last().unwrap().item_id, item);
        assert!(given.len() <= 60, "the test ends");
    }
    assert!(last.stopped);
    assert_eq!(last.stop_reason, "completed");
    assert!(
        given.len() < 60,
        "fewer items than the bank: {}",
        given.len()
    );

    // Every domain met the rule: its minimum, then SE ≤ target or all of its items.
    for domain in &instrument.domains {
        let steps: Vec<&api::AdaptiveStep> = last
            .steps
            .iter()
            .filter(|s| s.domain == domain.code)
            .collect();
        let bank = instrument
            .items
            .iter()
            .filter(|i| i.domain == domain.code)
            .count();
        assert!(
            steps.len() >= MIN_ITEMS,
            "{}: {} items",
            domain.code,
            steps.len()
        );
        let se = steps.last().unwrap().se;
        assert!(
            se <= SE_TARGET || steps.len() == bank,
            "{}: SE {se}",
            domain.code
        );
    }
    // Sequential domain order: each domain's items come in one run, in instrument order.
    let runs: Vec<&str> = last
        .steps
        .iter()
        .map(|s| s.domain.as_str())
        .collect::<Vec<_>>()
        .chunk_by(|a, b| a == b)
        .map(|run| run[0])
        .collect();
    let order: Vec<&str> = instrument.domains.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(runs, order);

    // No more saves once over (an item not given); submit without end_early.
    let spare = instrument
        .items
        .iter()
        .find(|i| !given.contains(&i.id))
        .unwrap();
    let value = answer_of(example, &instrument, &spare.id);
    let after = save(&mut client, &session, "r-after", &spare.id, &value)
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::FailedPrecondition, "{after:?}");
    let submitted = submit(&mut client, &session, false).await.unwrap();
    let result = submitted.result.unwrap();
    let record = result
        .adaptive
        .clone()
        .expect("the administration is recorded");
    assert_eq!(record.stop_reason, "completed");
    assert_eq!(record.selector.as_ref().unwrap().name, "mfi");
    assert_eq!(record.steps, last.steps);

    // The domain scores are the irt model's EAP on the items given: the test's last θ and
    // SE of each domain, on the reporting scale 50 + 15·θ.
    for d in &result.domains {
        let step = record
            .steps
            .iter()
            .rev()
            .find(|s| s.domain == d.code)
            .unwrap();
        let score = d.score.expect("every domain scored");
        assert!(
            (score - (50.0 + 15.0 * step.theta)).abs() < 1e-9,
            "{}: {score} vs θ {}",
            d.code,
            step.theta
        );
        assert!((d.se.unwrap() - 15.0 * step.se).abs() < 1e-9, "{}", d.code);
        let steps = record.steps.iter().filter(|s| s.domain == d.code).count();
        assert_eq!(
            d.answered as usize, steps,
            "{}: only the items given count",
            d.code
        );
    }
    assert!(result.index.is_some());

    // GetResult shows the same record; a rescore with the irt model keeps it, and any other
    // model is refused for an adaptive instrument.
    let stored = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.result.unwrap().adaptive, Some(record.clone()));
    let mut admin_client = admin(&server, Some(tokens::ADMIN)).await;
    let refused = admin_client
        .rescore(api::RescoreRequest {
            instrument: adaptive_ref(),
            model: "weighted-index".into(),
            settings_json: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let rescored = admin_client
        .rescore(api::RescoreRequest {
            instrument: adaptive_ref(),
            model: String::new(),
            settings_json: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((rescored.rescored, rescored.failed), (1, 0), "{rescored:?}");
    let latest = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.revision, 2);
    let latest = latest.result.unwrap();
    assert_eq!(latest.adaptive, Some(record));
    assert_eq!(
        latest.domains.iter().map(|d| d.score).collect::<Vec<_>>(),
        result.domains.iter().map(|d| d.score).collect::<Vec<_>>()
    );

    // A fixed instrument has no next items.
    let fixed = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: "fixed-1".into(),
            org_unit: "36.72".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let status = client
        .next_items(api::NextItemsRequest { session_id: fixed })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_stops_early_gets_a_result_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_adaptive(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let instrument = adaptive_instrument(&mut client).await;
    let example = &examples()[1];
    let session = start_session(&mut client, &example.id).await;
    for k in 0..3 {
        let item = next(&mut client, &session).await.item_ids[0].clone();
        let value = answer_of(example, &instrument, &item);
        save(&mut client, &session, &format!("r{k}"), &item, &value)
            .await
            .unwrap();
    }
    let refused = submit(&mut client, &session, false).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let result = submit(&mut client, &session, true)
        .await
        .unwrap()
        .result
        .unwrap();
    let record = result.adaptive.unwrap();
    assert_eq!(record.stop_reason, "end_early");
    assert_eq!(record.steps.len(), 3);
    // Three answers cannot score a domain that needs five: said, not guessed.
    let first = &result.domains[0];
    assert_eq!(first.score, None);
    let missing = first.missing.as_ref().unwrap();
    assert_eq!(missing.reason(), api::MissingReason::TooFewAnswers);
    assert_eq!((missing.count, missing.needed), (3, 5));
    assert_eq!(result.index, None);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refuses_an_adaptive_instrument_without_its_selector() {
    let dir = tempfile::tempdir().unwrap();
    let instruments = dir.path().join("instruments");
    adaptive_ikd_asn(&instruments, "no-such-selector", "min_items_per_domain = 5");
    let output = std::process::Command::new(ikd_tests::ikd_binary())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "off",
            "--web-addr",
            "off",
        ])
        .arg("--instrument")
        .arg(&instruments)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("IKD_TOKENS", ikd_tests::server::tokens_json())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[delivery]")
            && stderr.contains("'no-such-selector' is not loaded")
            && stderr.contains("mfi"),
        "names the selector and the loaded ones: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_selector_fails_the_step_clearly_and_the_server_stays_up() {
    a_faulty_selector_fails_the_step_clearly("panic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_selector_fails_the_step_at_its_deadline_and_the_server_stays_up() {
    a_faulty_selector_fails_the_step_clearly("hang").await;
}

/// A selector plugin that misbehaves as `fault` says (see the fixture): the step fails with
/// `UNAVAILABLE` naming the plugin, every time, and nothing else is touched.
async fn a_faulty_selector_fails_the_step_clearly(fault: &str) {
    let dir = tempfile::tempdir().unwrap();
    let instruments = dir.path().join("instruments");
    let file = adaptive_ikd_asn(&instruments, "faulty-selector", "min_items_per_domain = 5");
    // The fixture misbehaves as its bank's first domain code says.
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace(
            "code = \"literasi-digital\"",
            &format!("code = \"{fault}\""),
        )
        .replace(
            "domain = \"literasi-digital\"",
            &format!("domain = \"{fault}\""),
        );
    std::fs::write(&file, text).unwrap();
    let plugins = dir.path().join("plugins");
    ikd_tests::install_plugin(
        &plugins,
        &ikd_tests::fixture_dir("faulty-selector"),
        &ikd_tests::built_plugin("ikd-fixture-faulty-selector"),
    );
    let mut options = ServerOptions::new(dir.path());
    options.args = vec![
        "--instrument".into(),
        instruments.display().to_string(),
        "--instrument".into(),
        workspace().join("instruments").display().to_string(),
        "--plugin-dir".into(),
        plugins.display().to_string(),
    ];
    let server = TestServer::start(options);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let session = start_session(&mut client, "person-1").await;
    for attempt in 0..2 {
        let asked = std::time::Instant::now();
        let status = client
            .next_items(api::NextItemsRequest {
                session_id: session.clone(),
            })
            .await
            .unwrap_err();
        // A hung selector is given up at its deadline (1 s), not the fixture's 10 s.
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(8),
            "{fault}"
        );
        assert_eq!(status.code(), Code::Unavailable, "{attempt}: {status:?}");
        assert!(status.message().contains("faulty-selector"), "{status:?}");
        assert!(status.message().contains("answers are kept"), "{status:?}");
    }
    // Saving needs the next item too, and fails the same way; nothing else is touched.
    let refused = save(&mut client, &session, "r0", "LD01", "3")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
    let e = &examples()[0];
    let (_, result) = super::sessions::run_session(&mut client, e).await;
    assert!(result.index.is_some(), "a fixed instrument is still served");
    server.stop();
}
