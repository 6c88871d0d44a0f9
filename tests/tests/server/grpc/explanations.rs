//! Results that explain themselves (issue 17): an absent domain score or index
//! says why, with its counts, through `Score` and through a stored result
//! (`SubmitSession`, `GetResult`) on SQLite and PostgreSQL; a suppressed
//! aggregate says why without telling a small unit from its complement.

use super::*;
use prost::Message;

/// The example respondent `id`.
fn example(id: &str) -> Example {
    examples().into_iter().find(|e| e.id == id).unwrap()
}

fn domain<'a>(result: &'a api::Result, code: &str) -> &'a api::DomainResult {
    result.domains.iter().find(|d| d.code == code).unwrap()
}

/// SMD-BAP-011 by hand (instrument: `min_answered` 5, `min_answered_fraction`
/// 0.6, `min_domains` 4): `budaya-data` 7 of its 12 items answered, ⌈0.6 · 12⌉
/// = 8 needed; `pelayanan-publik` (12 items) skipped, 0 of 8; three domains
/// scored of the 4 the index needs.
fn assert_smd_bap_011(result: &api::Result) {
    let budaya = domain(result, "budaya-data");
    assert!(budaya.score.is_none());
    let m = budaya.missing.as_ref().expect("a reason");
    assert_eq!(m.reason(), api::MissingReason::TooFewAnswers);
    assert_eq!((m.count, m.needed), (7, 8));
    assert_eq!(
        m.message,
        "Not scored: 7 of the 8 answers needed were given."
    );
    let pelayanan = domain(result, "pelayanan-publik").missing.as_ref().unwrap();
    assert_eq!(pelayanan.reason(), api::MissingReason::TooFewAnswers);
    assert_eq!((pelayanan.count, pelayanan.needed), (0, 8));
    for scored in ["literasi-digital", "etika-keamanan", "kepemimpinan-digital"] {
        let d = domain(result, scored);
        assert!(d.score.is_some() && d.missing.is_none(), "{scored}");
    }
    assert!(result.index.is_none());
    let index = result
        .index_missing
        .as_ref()
        .expect("a reason for the index");
    assert_eq!(index.reason(), api::MissingReason::TooFewDomains);
    assert_eq!((index.count, index.needed), (3, 4));
    assert_eq!(index.message, "No index: 3 of the 4 scored domains needed.");
}

/// GKD-DSS-009 with every `kepemimpinan-digital` item (KD*) answered `NA`:
/// nothing applies, so nothing is needed, and the index comes from the other
/// four domains (4 of 4 needed).
fn not_applicable(e: &Example) -> Example {
    let mut e = e.clone();
    e.id = format!("{}-na", e.id);
    for a in &mut e.answers {
        if a.item_id.starts_with("KD") {
            a.value = "NA".into();
        }
    }
    e
}

fn assert_not_applicable(result: &api::Result) {
    let kd = domain(result, "kepemimpinan-digital");
    let m = kd.missing.as_ref().unwrap();
    assert_eq!(m.reason(), api::MissingReason::NoApplicableItems);
    assert_eq!((m.count, m.needed), (0, 0));
    assert!(result.index.is_some() && result.index_missing.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn score_says_why_a_domain_or_the_index_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let score = |e: &Example, language: &str| {
        let mut request = score_request(e);
        request.language = language.into();
        request
    };
    let e = example("SMD-BAP-011");
    let result = client.score(score(&e, "en")).await.unwrap().into_inner();
    assert_smd_bap_011(&result.result.unwrap());
    // The same reason in Bahasa Indonesia (the default).
    let result = client.score(score(&e, "")).await.unwrap().into_inner();
    let m = domain(result.result.as_ref().unwrap(), "budaya-data");
    assert_eq!(
        m.missing.as_ref().unwrap().message,
        "Tidak dinilai: 7 dari 8 butir yang diperlukan dijawab."
    );
    // Batch results (scores only) keep their reasons: they are the full result without
    // feedback and provenance, field for field.
    let mut request = score(&e, "en");
    request.detail = api::ResultDetail::Scores.into();
    let scores = client
        .score(request)
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_smd_bap_011(&scores);
    let mut full = client
        .score(score(&e, "en"))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!(full.domains.iter().any(|d| d.feedback.is_some()));
    full.provenance = None;
    full.domains.iter_mut().for_each(|d| d.feedback = None);
    assert_eq!(scores, full);

    let na = not_applicable(&example("GKD-DSS-009"));
    let result = client.score(score(&na, "en")).await.unwrap().into_inner();
    assert_not_applicable(&result.result.unwrap());
}

/// Stored results keep `needed`: `GetResult` explains as `Score` did.
async fn stored_results_say_why(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    let server = TestServer::start(options);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let mut steward = assessment(&server, Some(tokens::STEWARD)).await;
    for (e, check) in [
        (
            example("SMD-BAP-011"),
            assert_smd_bap_011 as fn(&api::Result),
        ),
        (
            not_applicable(&example("GKD-DSS-009")),
            assert_not_applicable,
        ),
    ] {
        let (session, submitted) = sessions::run_session(&mut client, &e).await;
        // run_session submits in the default language: the counts and reasons hold.
        assert_eq!(
            domain(&submitted, "budaya-data").missing.is_some(),
            e.id == "SMD-BAP-011"
        );
        let stored = steward
            .get_result(api::GetResultRequest {
                session_id: session,
                language: "en".into(),
            })
            .await
            .unwrap()
            .into_inner();
        check(&stored.result.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_results_say_why_on_sqlite() {
    stored_results_say_why(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_results_say_why_on_postgres() {
    stored_results_say_why(Some(ikd_tests::postgres::server().new_database())).await;
}

/// Units `p/a` (1 result), `p/b` (5) and `p/c` (6), minimum 5: `p/a` is
/// hidden as too small, `p/b` as its complement (else `p − p/c − p/b` = `p/a`).
/// Both say only "disclosure control", in identical answers; `p/c` is
/// published, with `budaya-data` and `pelayanan-publik` suppressed as too few
/// (two of its six results, SMD-BAP-011's answers, have neither).
async fn suppression_reasons(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options.database_url = database_url;
    let server = TestServer::start(options);
    let mut client = assessment(&server, Some(tokens::SERVICE)).await;
    let examples = examples();
    let scored = examples
        .iter()
        .filter(|e| e.id != "SMD-BAP-011" && e.id != "GKD-DSS-009")
        .collect::<Vec<_>>();
    let no_budaya = example("SMD-BAP-011");
    let mut k = 0;
    for (unit, n) in [("p/a", 1), ("p/b", 5), ("p/c", 6)] {
        for j in 0..n {
            let mut e = if unit == "p/c" && j < 2 {
                no_budaya.clone()
            } else {
                scored[k % scored.len()].clone()
            };
            e.id = format!("person-{k}");
            e.org_unit = unit.into();
            sessions::run_session(&mut client, &e).await;
            k += 1;
        }
    }
    let mut analyst = assessment(&server, Some(tokens::ANALYST)).await;
    let mut aggregate = async |prefix: &str, language: &str| {
        analyst
            .get_aggregate(api::GetAggregateRequest {
                instrument: ikd_asn(),
                org_prefix: prefix.into(),
                language: language.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    };
    let small = aggregate("p/a", "en").await;
    let complement = aggregate("p/b", "en").await;
    for hidden in [&small, &complement] {
        assert!(hidden.suppressed, "{}", hidden.org_prefix);
        assert_eq!(
            hidden.suppression_reason(),
            api::SuppressionReason::DisclosureControl
        );
        assert!(hidden.n == 0 && hidden.index.is_none() && hidden.domains.is_empty());
        // The only number in the message is the minimum: no count of its own
        // or of a sibling (1, 5, 6, 12).
        let numbers: Vec<&str> = hidden
            .suppression_message
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(numbers, ["5"], "{}", hidden.suppression_message);
    }
    // Nothing tells the small unit from its complement: the answers are the
    // same bytes but for the prefix asked.
    let bytes = |a: &api::Aggregate| {
        let mut a = a.clone();
        a.org_prefix.clear();
        a.encode_to_vec()
    };
    assert_eq!(bytes(&small), bytes(&complement));
    assert_eq!(
        aggregate("p/a", "").await.suppression_message,
        aggregate("p/b", "").await.suppression_message
    );
    assert!(
        aggregate("p/a", "")
            .await
            .suppression_message
            .starts_with("Tidak ditampilkan")
    );

    // Published: no reason; a domain with four scores of six is too few.
    let too_few = ["budaya-data", "pelayanan-publik"];
    let published = aggregate("p/c", "en").await;
    assert!(!published.suppressed && published.n == 6);
    assert_eq!(
        published.suppression_reason(),
        api::SuppressionReason::Unspecified
    );
    assert!(published.suppression_message.is_empty());
    for d in &published.domains {
        if too_few.contains(&d.code.as_str()) {
            assert!(d.suppressed && d.score.is_none());
            assert_eq!(
                d.suppression_reason(),
                api::SuppressionReason::TooFewResults
            );
            assert_eq!(d.suppression_message, "Not shown: fewer than 5 results.");
        } else {
            assert!(!d.suppressed, "{}", d.code);
            assert_eq!(d.suppression_reason(), api::SuppressionReason::Unspecified);
            assert!(d.suppression_message.is_empty());
        }
    }
    // A unit without results is hidden like any other.
    let empty = aggregate("q", "en").await;
    assert_eq!(
        empty.suppression_reason(),
        api::SuppressionReason::DisclosureControl
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn suppression_reasons_on_sqlite() {
    suppression_reasons(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suppression_reasons_on_postgres() {
    suppression_reasons(Some(ikd_tests::postgres::server().new_database())).await;
}
