//! Stateless scoring: `Score` and `ScoreStream` against the committed expected results.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn score_agrees_with_the_committed_expected_results() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let expected = expected();
    let examples = examples();
    for e in &examples {
        let result = client
            .score(score_request(e))
            .await
            .unwrap()
            .into_inner()
            .result
            .unwrap();
        assert_matches_expected(&result, &expected[&e.id]);
    }
    // Feedback and provenance come with a full result.
    let result = client
        .score(score_request(&examples[0]))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    let feedback = result.domains[0].feedback.as_ref().unwrap();
    assert!(!feedback.summary.is_empty() && !feedback.advice.is_empty());
    let provenance = result.provenance.unwrap();
    assert_eq!(provenance.instrument_id, "ikd-asn-2025");
    assert_eq!(provenance.model.unwrap().name, "weighted-index");
    assert_eq!(provenance.plugins.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_answers_come_back_as_field_violations() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let mut request = score_request(&examples()[0]);
    // An out-of-range Likert answer, an unknown option and an unknown item.
    request.answers[0].value = "9".into();
    let ld04 = request
        .answers
        .iter_mut()
        .find(|a| a.item_id == "LD04")
        .unwrap();
    ld04.value = "zz".into();
    let status = client.score(request.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["answers[LD01]", "answers[LD04]"]);

    request.answers.push(api::Answer {
        item_id: "NOPE01".into(),
        value: "1".into(),
    });
    let status = client.score(request).await.unwrap_err();
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "answers[NOPE01]");
    assert!(violations[0].description.contains("no such item"));
}

#[tokio::test(flavor = "multi_thread")]
async fn score_stream_answers_in_order_and_isolates_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let expected = expected();
    let examples = examples();
    // Every example ten times over, with one broken request in the middle.
    let mut requests: Vec<api::ScoreRequest> = (0..10)
        .flat_map(|_| examples.iter().map(score_request))
        .collect();
    let broken = 100;
    requests[broken].answers[0].value = "not-a-number".into();
    let n = requests.len();
    let mut stream = client
        .score_stream(tokio_stream::iter(requests.clone()))
        .await
        .unwrap()
        .into_inner();
    let mut seen = 0;
    while let Some(response) = stream.message().await.unwrap() {
        assert_eq!(response.sequence, seen as u64);
        assert_eq!(response.respondent_id, requests[seen].respondent_id);
        match response.outcome.unwrap() {
            api::score_stream_response::Outcome::Result(r) => {
                assert_ne!(seen, broken);
                assert_matches_expected(&r, &expected[&response.respondent_id]);
            }
            api::score_stream_response::Outcome::Problem(p) => {
                assert_eq!(seen, broken);
                assert_eq!(p.code, Code::InvalidArgument as i32);
                assert_eq!(p.violations[0].field, "answers[LD01]");
            }
        }
        seen += 1;
    }
    assert_eq!(seen, n);
}

/// Answers packed in instrument order (`answer_values`, and the same cells joined by tabs in
/// `answer_line`) score exactly as the same answers given by item id, on `Score` and
/// `ScoreStream`; a request with two encodings, or with a value count other than the
/// instrument's item count, or an oversized cell, is refused naming the field at fault.
#[tokio::test(flavor = "multi_thread")]
async fn packed_answers_score_as_answers_by_item_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let order: Vec<String> = client
        .get_instrument(api::GetInstrumentRequest {
            instrument: ikd_tests::grpc::ikd_asn(),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .items
        .into_iter()
        .map(|item| item.id)
        .collect();
    let packed = |named: &api::ScoreRequest| api::ScoreRequest {
        answer_values: order
            .iter()
            .map(|id| {
                named
                    .answers
                    .iter()
                    .find(|a| &a.item_id == id)
                    .map_or(String::new(), |a| a.value.clone())
            })
            .collect(),
        answers: Vec::new(),
        ..named.clone()
    };
    let lined = |named: &api::ScoreRequest| api::ScoreRequest {
        answer_line: packed(named).answer_values.join("\t"),
        answers: Vec::new(),
        ..named.clone()
    };
    let expected = expected();
    let named: Vec<api::ScoreRequest> = examples().iter().map(score_request).collect();
    let lines: Vec<api::ScoreRequest> = named.iter().map(lined).collect();
    let requests: Vec<api::ScoreRequest> = named.iter().map(packed).chain(lines.clone()).collect();
    for request in &requests {
        let result = client
            .score(request.clone())
            .await
            .unwrap()
            .into_inner()
            .result
            .unwrap();
        assert_matches_expected(&result, &expected[&request.respondent_id]);
    }
    let mut stream = client
        .score_stream(tokio_stream::iter(requests.clone()))
        .await
        .unwrap()
        .into_inner();
    let mut seen = 0;
    while let Some(response) = stream.message().await.unwrap() {
        match response.outcome.unwrap() {
            api::score_stream_response::Outcome::Result(r) => {
                assert_matches_expected(&r, &expected[&response.respondent_id])
            }
            api::score_stream_response::Outcome::Problem(p) => panic!("{p:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, requests.len());

    let refused = |status: tonic::Status, field: &str| {
        assert_eq!(status.code(), Code::InvalidArgument);
        let violation = status.get_details_bad_request().unwrap().field_violations[0].clone();
        assert_eq!(violation.field, field);
        violation.description
    };
    let mut both = requests[0].clone();
    both.answers = named[0].answers.clone();
    let why = refused(client.score(both).await.unwrap_err(), "answer_values");
    assert!(why.contains("not both answers and answer_values"), "{why}");
    let mut two_packings = lines[0].clone();
    two_packings.answer_values = requests[0].answer_values.clone();
    let why = refused(client.score(two_packings).await.unwrap_err(), "answer_line");
    assert!(
        why.contains("not both answer_values and answer_line"),
        "{why}"
    );
    let mut short = requests[0].clone();
    short.answer_values.pop();
    let why = refused(client.score(short).await.unwrap_err(), "answer_values");
    assert!(
        why.contains(&format!("{} values", order.len() - 1))
            && why.contains(&format!("{} items", order.len())),
        "{why}"
    );
    let mut short_line = lines[0].clone();
    let last_tab = short_line.answer_line.rfind('\t').unwrap();
    short_line.answer_line.truncate(last_tab);
    let why = refused(client.score(short_line).await.unwrap_err(), "answer_line");
    assert!(
        why.contains(&format!("{} values", order.len() - 1)),
        "{why}"
    );
    let mut oversized = lines[0].clone();
    let rest = &oversized.answer_line[oversized.answer_line.find('\t').unwrap()..];
    oversized.answer_line = format!("{}{rest}", "4".repeat(5000));
    refused(client.score(oversized).await.unwrap_err(), "answer_line[0]");
}

/// The README's `Score` example sends `examples/score-request.json` with grpcurl: a whole
/// respondent of the example answers, which must score to its committed expected row
/// (an index, not an empty result).
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_score_request_scores_to_its_expected_row() {
    let path = workspace().join("instruments/ikd-asn-2025/examples/score-request.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = |key: &str| json[key].as_str().unwrap().to_owned();
    let request = api::ScoreRequest {
        instrument: Some(api::InstrumentRef {
            id: json["instrument"]["id"].as_str().unwrap().into(),
            version: String::new(),
        }),
        respondent_id: text("respondent_id"),
        org_unit: text("org_unit"),
        answers: json["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| api::Answer {
                item_id: a["item_id"].as_str().unwrap().into(),
                value: a["value"].as_str().unwrap().into(),
            })
            .collect(),
        duration_seconds: json["duration_seconds"].as_f64(),
        language: text("language"),
        ..Default::default()
    };
    // The file is the example respondent as answers.csv has it.
    let example = examples().into_iter().next().unwrap();
    assert_eq!(request.respondent_id, example.id);
    assert_eq!(request.answers, score_request(&example).answers);
    assert_eq!(request.duration_seconds, example.duration);

    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let result = client
        .score(request)
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(result.index.is_some());
    assert_matches_expected(&result, &expected()[&example.id]);
}

/// A model no plugin provides is the client's mistake: `INVALID_ARGUMENT` naming the
/// `model` field and the models there are, on `Score` and on a stream; no error text
/// names a path of the server (plugin files, the instrument's directory, the data directory).
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_model_is_invalid_argument_and_names_no_server_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let mut request = score_request(&examples()[0]);
    request.model = "no-such-model".into();
    let status = client.score(request.clone()).await.unwrap_err();
    let message = status.message().to_owned();
    assert_eq!(status.code(), Code::InvalidArgument, "{message}");
    let violation = status.get_details_bad_request().unwrap().field_violations[0].clone();
    assert_eq!(violation.field, "model");
    assert!(
        violation.description.contains("no-such-model"),
        "{violation:?}"
    );
    assert!(
        violation.description.contains("weighted-index"),
        "{violation:?}"
    );

    let mut stream = client
        .score_stream(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let Some(api::score_stream_response::Outcome::Problem(problem)) =
        stream.message().await.unwrap().unwrap().outcome
    else {
        panic!("an unknown model is a problem of its request");
    };
    assert_eq!(problem.code, Code::InvalidArgument as i32);
    for text in [message, violation.description, problem.message] {
        for path in [workspace(), dir.path().to_owned()] {
            assert!(!text.contains(&*path.to_string_lossy()), "{text}");
        }
        assert!(!text.contains(".so"), "{text}");
    }
}
