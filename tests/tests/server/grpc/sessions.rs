//! The session life cycle on both stores, and aggregates over submitted sessions.

use super::*;

/// Starts a session for an example, saves its answers in two batches, submits.
pub(super) async fn run_session(client: &mut Assessment, e: &Example) -> (String, api::Result) {
    let session = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: e.id.clone(),
            org_unit: e.org_unit.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let half = e.answers.len() / 2;
    for (k, part) in [&e.answers[..half], &e.answers[half..]]
        .into_iter()
        .enumerate()
    {
        client
            .save_answers(api::SaveAnswersRequest {
                session_id: session.clone(),
                request_id: format!("{session}-{k}"),
                answers: part.to_vec(),
            })
            .await
            .unwrap();
    }
    let submitted = client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
            end_early: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.revision, 1);
    (session, submitted.result.unwrap())
}

/// The session life cycle and its error codes, on the store at `database_url`.
async fn sessions_work(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    let server = TestServer::start(options);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let examples = examples();
    let expected = expected();
    let e = &examples[0];

    let session = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: e.id.clone(),
            org_unit: e.org_unit.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .session_id;
    let save = |request_id: &str, answers: &[api::Answer]| api::SaveAnswersRequest {
        session_id: session.clone(),
        request_id: request_id.into(),
        answers: answers.to_vec(),
    };
    let first = client
        .save_answers(save("r1", &e.answers[..30]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.replayed, first.answers_stored), (false, 30));
    // A retry of the same request changes nothing.
    let again = client
        .save_answers(save("r1", &e.answers[..30]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.replayed, again.answers_stored), (true, 30));
    // An invalid answer is refused with its field, and nothing of the request is stored.
    let mut bad = e.answers[30..].to_vec();
    bad[0].value = "77".into();
    let status = client.save_answers(save("r2", &bad)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        format!("answers[{}]", bad[0].item_id)
    );
    let rest = client
        .save_answers(save("r3", &e.answers[30..]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.answers_stored, 60);

    // Not yet submitted: no result.
    let pending = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(pending.code(), Code::FailedPrecondition);

    let submitted = client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: "en".into(),
            end_early: false,
        })
        .await
        .unwrap()
        .into_inner();
    let result = submitted.result.unwrap();
    assert_eq!(result.index.map(|x| (x * 1e4).round()), Some(713880.0));
    assert_eq!(expected[&e.id]["index"], "71.388");
    let twice = client
        .submit_session(api::SubmitSessionRequest {
            session_id: session.clone(),
            language: String::new(),
            end_early: false,
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let late = client
        .save_answers(save("r4", &e.answers[..1]))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);

    let stored = client
        .get_result(api::GetResultRequest {
            session_id: session.clone(),
            language: "id".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.result.as_ref().unwrap().index, result.index);
    // Names follow the requested language; the numbers do not change.
    assert_ne!(
        stored.result.as_ref().unwrap().domains[0].name,
        result.domains[0].name
    );

    // Unknown sessions and another organisation's sessions.
    let missing = client
        .get_result(api::GetResultRequest {
            session_id: "00000000-0000-4000-8000-000000000000".into(),
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let mut samarinda = assessment(&server, Some(tokens::SERVICE_CILEGON)).await;
    let other = examples
        .iter()
        .find(|x| x.org_unit.starts_with("64.72"))
        .unwrap();
    let (foreign, _) = run_session(&mut client, other).await;
    let denied = samarinda
        .get_result(api::GetResultRequest {
            session_id: foreign,
            language: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = samarinda
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: "x".into(),
            org_unit: "36.7".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = client
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: String::new(),
            org_unit: "36..72".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        invalid
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .len(),
        2
    );

    // Wrong role: a service token cannot aggregate; an analyst cannot submit.
    let status = client
        .get_aggregate(api::GetAggregateRequest {
            instrument: ikd_asn(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut analyst = assessment(&server, Some(tokens::ANALYST)).await;
    let status = analyst
        .start_session(api::StartSessionRequest {
            instrument: ikd_asn(),
            respondent_id: "x".into(),
            org_unit: "36.72".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_on_sqlite() {
    sessions_work(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_on_postgres() {
    sessions_work(Some(ikd_tests::postgres::server().new_database())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregates_roll_up_by_prefix_and_suppress_small_groups() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let examples = examples();
    let mut cilegon = Vec::new();
    for e in &examples {
        let (_, result) = run_session(&mut client, e).await;
        if e.org_unit == "36.72"
            || e.org_unit.starts_with("36.72/")
            || e.org_unit.starts_with("36.72.")
        {
            cilegon.push(result);
        }
    }
    assert!(
        cilegon.len() >= 5,
        "the examples need five Cilegon respondents"
    );
    let mut analyst = assessment(&server, Some(tokens::ANALYST)).await;
    let aggregate = |prefix: &str| api::GetAggregateRequest {
        instrument: ikd_asn(),
        org_prefix: prefix.into(),
        ..Default::default()
    };
    let got = analyst
        .get_aggregate(aggregate("36.72"))
        .await
        .unwrap()
        .into_inner();
    assert!(!got.suppressed);
    assert_eq!(got.n, cilegon.len() as u64);
    let indices: Vec<f64> = cilegon.iter().filter_map(|r| r.index).collect();
    let mean = indices.iter().sum::<f64>() / indices.len() as f64;
    let index = got.index.unwrap();
    assert!((index.mean - mean).abs() < 1e-9);
    assert!(index.ci_low < mean && mean < index.ci_high);
    assert_eq!(
        got.levels.iter().map(|l| l.count).sum::<u64>(),
        indices.len() as u64
    );
    assert_eq!(got.domains.len(), 5);

    // `36.7` is another unit, not a prefix of `36.72`: nothing there, suppressed.
    let none = analyst
        .get_aggregate(aggregate("36.7"))
        .await
        .unwrap()
        .into_inner();
    assert!(none.suppressed);
    assert_eq!(none.n, 0);
    assert!(none.index.is_none());
    // A group below the minimum size (5) is suppressed without its n. Three other
    // persons with the examples' answers: the same respondents would be re-takes, which
    // would leave their first units (only a person's latest session counts).
    for e in examples.iter().take(3) {
        let mut other = e.clone();
        other.id = format!("{}-dukcapil", e.id);
        other.org_unit = "36.73/dukcapil".into();
        run_session(&mut client, &other).await;
    }
    let small = analyst
        .get_aggregate(aggregate("36.73"))
        .await
        .unwrap()
        .into_inner();
    assert!(small.suppressed && small.n == 0 && small.index.is_none());
    // Complementary suppression: with 36 published, 36.72 would give away its
    // small sibling 36.73 (= 36 − 36.72), so 36.72 is hidden as well.
    let province = analyst
        .get_aggregate(aggregate("36"))
        .await
        .unwrap()
        .into_inner();
    assert!(!province.suppressed);
    assert_eq!(province.n, got.n + 3);
    let hidden = analyst
        .get_aggregate(aggregate("36.72"))
        .await
        .unwrap()
        .into_inner();
    assert!(hidden.suppressed && hidden.n == 0 && hidden.index.is_none());

    // An analyst limited to Cilegon: own scope by default (hidden now, as
    // for everyone), nothing outside it.
    let mut limited = assessment(&server, Some(tokens::ANALYST_CILEGON)).await;
    // Per-person exports are a data steward's (issue 12, defect 6).
    let mut steward = assessment(&server, Some(tokens::STEWARD_CILEGON)).await;
    let own = limited
        .get_aggregate(aggregate(""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.org_prefix.as_str(), "36.72");
    assert!(own.suppressed && own.n == 0);
    for outside in ["64.72", "36.7", "36"] {
        let denied = limited.get_aggregate(aggregate(outside)).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{outside}");
        let denied = steward
            .export_results(api::ExportResultsRequest {
                instrument: ikd_asn(),
                org_prefix: outside.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{outside}");
    }

    // Export: every Cilegon result, pseudonymised.
    let mut stream = steward
        .export_results(api::ExportResultsRequest {
            instrument: ikd_asn(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut exported = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        exported.push(r);
    }
    assert_eq!(exported.len(), cilegon.len());
    // A time window after every submit holds nothing.
    let later = prost_types::Timestamp {
        seconds: exported
            .iter()
            .map(|r| r.submitted_at.unwrap().seconds)
            .max()
            .unwrap()
            + 1,
        nanos: 0,
    };
    let mut empty = steward
        .export_results(api::ExportResultsRequest {
            instrument: ikd_asn(),
            from: Some(later),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(empty.message().await.unwrap().is_none());
    for r in &exported {
        assert!(r.org_unit.starts_with("36.72"));
        assert_eq!(r.respondent_pseudonym.len(), 64);
        assert!(examples.iter().all(|e| e.id != r.respondent_pseudonym));
        let full = r.result.as_ref().unwrap();
        assert!(
            full.provenance.is_some(),
            "a full export carries provenance"
        );
        // A full row is the session's result exactly as `GetResult` renders it.
        let one = steward
            .get_result(api::GetResultRequest {
                session_id: r.session_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(one.result.as_ref(), Some(full), "{}", r.session_id);
        assert_eq!(
            (&one.org_unit, one.revision, one.submitted_at),
            (&r.org_unit, r.revision, r.submitted_at)
        );
    }
    // Scores only: the same rows and numbers, without feedback texts and provenance.
    let mut stream = steward
        .export_results(api::ExportResultsRequest {
            instrument: ikd_asn(),
            detail: api::ResultDetail::Scores.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut scores = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        scores.push(r);
    }
    assert_eq!(scores.len(), exported.len());
    for (lean, full) in scores.iter().zip(&exported) {
        assert_eq!(lean.session_id, full.session_id);
        // The same row without the feedback texts, provenance and adaptive record.
        let mut stripped = full.clone();
        let result = stripped.result.as_mut().unwrap();
        result.provenance = None;
        result.adaptive = None;
        result.domains.iter_mut().for_each(|d| d.feedback = None);
        assert_eq!(*lean, stripped);
        let (lean, full) = (lean.result.as_ref().unwrap(), full.result.as_ref().unwrap());
        assert_eq!(lean.index, full.index);
        assert!(lean.provenance.is_none());
        assert!(lean.domains.iter().all(|d| d.feedback.is_none()));
        assert_eq!(
            lean.domains.iter().map(|d| d.score).collect::<Vec<_>>(),
            full.domains.iter().map(|d| d.score).collect::<Vec<_>>()
        );
    }
    assert!(
        exported.iter().any(|r| r
            .result
            .as_ref()
            .unwrap()
            .domains
            .iter()
            .any(|d| d.feedback.is_some())),
        "the full export has feedback to leave out"
    );
}
