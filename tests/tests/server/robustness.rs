//! Bad input, row by row of `docs/robustness.md` (the rows not already proven
//! by the instrument, CLI, plugin-host and gRPC suites it also points to).
//! Every case checks what happens and that the message names what is at fault.

use ikd_proto::v1 as api;
use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{built_plugin, fixture_instrument, ikd_binary, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tonic::Code;
use tonic_types::StatusExt;

fn ikd(args: &[&str]) -> Output {
    built_plugin("ikd-fixture-minimal-domain");
    Command::new(ikd_binary())
        .arg("--plugin-dir")
        .arg(workspace().join("tests/fixtures/plugins/minimal-domain"))
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env("RUST_LOG", "error")
        .output()
        .expect("ikd runs")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn instrument_text() -> String {
    std::fs::read_to_string(fixture_instrument("hand-computed.toml")).unwrap()
}

const GOOD: &str =
    "respondent_id,org_unit,A1,A2,A3,B1,B2\nr1,36.72/bkpsdm,5,2,b,3,b\nr2,36.72/bkpsdm,1,5,x,,\n";

fn score(dir: &Path, answers: &[u8]) -> (Output, String) {
    let file = write(dir, "answers.csv", answers);
    let out = ikd(&[
        "score",
        "--instrument",
        fixture_instrument("hand-computed.toml").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn answers_csv_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (good, expected) = score(dir.path(), GOOD.as_bytes());
    assert!(good.status.success(), "{}", stderr(&good));

    // A byte-order mark (Excel's "CSV UTF-8") and Windows line ends are accepted as such.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(GOOD.as_bytes());
    let (out, stdout) = score(dir.path(), &bom);
    assert!(out.status.success(), "BOM: {}", stderr(&out));
    assert_eq!(stdout, expected, "a BOM changes nothing");
    let (out, stdout) = score(dir.path(), GOOD.replace('\n', "\r\n").as_bytes());
    assert!(out.status.success(), "CRLF: {}", stderr(&out));
    assert_eq!(stdout, expected, "CRLF changes nothing");

    // Not UTF-8 (Latin-1 é): refused, naming the line and field.
    let (out, _) = score(
        dir.path(),
        b"respondent_id,org_unit,A1,A2,A3,B1,B2\nr\xe9,36.72/bkpsdm,5,2,b,3,b\n",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("answers.csv:2") && err.contains("invalid utf-8"),
        "{err}"
    );

    // An unbalanced quote swallows the rest of the file: refused at its line.
    let (out, _) = score(
        dir.path(),
        b"respondent_id,org_unit,A1,A2,A3,B1,B2\n\"r1,36.72/bkpsdm,5,2,b,3,b\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("answers.csv:2"), "{}", stderr(&out));

    // A header alone is a valid, empty file; an empty file lacks the header.
    let (out, _) = score(dir.path(), b"respondent_id,org_unit,A1,A2,A3,B1,B2\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("scored 0 respondent"),
        "{}",
        stderr(&out)
    );
    let (out, _) = score(dir.path(), b"");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("missing column(s): respondent_id"),
        "{}",
        stderr(&out)
    );

    // A two-megabyte cell: an invalid answer naming respondent and item, nothing written.
    let huge = format!(
        "respondent_id,org_unit,A1,A2,A3,B1,B2\nr1,36.72/bkpsdm,5,2,b,3,{}\n",
        "b".repeat(2_000_000)
    );
    let (out, _) = score(dir.path(), huge.as_bytes());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("'r1'") && err.contains("'B2'"),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(
        err.len() < 10_000,
        "the message quotes the value in part, not in full"
    );

    // Unicode look-alikes are not the item: a column "A\u{200b}1" is unknown.
    let (out, _) = score(dir.path(), GOOD.replacen("A1", "A\u{200b}1", 1).as_bytes());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not an item"), "{}", stderr(&out));
}

fn validate(dir: &Path, text: &[u8]) -> (bool, String) {
    let file = write(dir, "instrument.toml", text);
    let out = ikd(&["validate", file.to_str().unwrap()]);
    (out.status.success(), stderr(&out))
}

#[test]
fn instrument_toml_rows() {
    let dir = tempfile::tempdir().unwrap();
    let text = instrument_text();
    assert!(validate(dir.path(), text.as_bytes()).0);

    // Truncated in the middle of a table: a syntax error with file, line and column.
    let cut = &text[..text.find("[[items]]").unwrap() + 12];
    let (ok, err) = validate(dir.path(), cut.as_bytes());
    assert!(!ok);
    assert!(err.contains("instrument.toml:"), "{err}");

    // Not UTF-8.
    let mut latin1 = text.clone().into_bytes();
    latin1.extend_from_slice(b"# caf\xe9\n");
    let (ok, err) = validate(dir.path(), &latin1);
    assert!(!ok);
    assert!(
        err.contains("instrument.toml") && err.to_lowercase().contains("utf-8"),
        "{err}"
    );

    // Huge numbers: an integer beyond i64, a float that overflows to infinity.
    let (ok, err) = validate(
        dir.path(),
        text.replacen("max = 5", "max = 99999999999999999999", 1)
            .as_bytes(),
    );
    assert!(!ok);
    assert!(err.contains("instrument.toml:"), "{err}");
    let (ok, err) = validate(
        dir.path(),
        text.replacen("weight = 0.75", "weight = 1e400", 1)
            .as_bytes(),
    );
    assert!(!ok, "an infinite weight is refused");
    assert!(err.contains("weight"), "{err}");

    // Unicode oddities in ids: zero-width space, right-to-left override, a
    // decomposed accent beside the composed one.
    for odd in ["A\u{200b}1", "A\u{202e}1", "A\u{0301}1"] {
        let (ok, err) = validate(
            dir.path(),
            text.replacen("id = \"A1\"", &format!("id = \"{odd}\""), 1)
                .as_bytes(),
        );
        assert!(!ok, "{odd:?} accepted as an item id");
        assert!(err.contains("id"), "{err}");
    }

    // Bands with a gap, and overlapping bands.
    let (ok, err) = validate(
        dir.path(),
        text.replacen("min = 50", "min = 55", 1).as_bytes(),
    );
    assert!(!ok);
    assert!(err.contains("level") || err.contains("band"), "{err}");
    let (ok, err) = validate(
        dir.path(),
        text.replacen("min = 50", "min = 40", 1).as_bytes(),
    );
    assert!(!ok);
    assert!(err.contains("level") || err.contains("band"), "{err}");
}

fn req<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", tokens::SERVICE).parse().unwrap(),
    );
    r
}

/// gRPC requests with missing, wrong or oversized fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_request_rows() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let channel = tonic::transport::Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = AssessmentServiceClient::new(channel);
    let ikd = || {
        Some(api::InstrumentRef {
            id: "ikd-asn-2025".into(),
            version: String::new(),
        })
    };
    let answer = |item: &str, value: &str| api::Answer {
        item_id: item.into(),
        value: value.into(),
    };
    let score = |instrument, answers: Vec<api::Answer>| api::ScoreRequest {
        instrument,
        respondent_id: "r".into(),
        org_unit: "36.72".into(),
        answers,
        ..Default::default()
    };

    // No instrument; an instrument version that does not exist.
    let err = client.score(req(score(None, vec![]))).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("instrument"), "{err:?}");
    let err = client
        .score(req(score(
            Some(api::InstrumentRef {
                id: "ikd-asn-2025".into(),
                version: "9.9.9".into(),
            }),
            vec![],
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("9.9.9"), "{err:?}");

    // Answers to an unknown item, the same item twice, a value out of range:
    // field violations naming each item.
    for (answers, item) in [
        (vec![answer("ZZ99", "1")], "ZZ99"),
        (vec![answer("LD01", "4"), answer("LD01", "5")], "LD01"),
        (vec![answer("LD01", "9")], "LD01"),
    ] {
        let err = client.score(req(score(ikd(), answers))).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{item}: {err:?}");
        let violations = err
            .get_details_bad_request()
            .map(|b| b.field_violations)
            .unwrap_or_default();
        assert!(
            violations.iter().any(|v| v.field.contains(item)),
            "{item}: {violations:?}"
        );
    }

    // An unknown enum value is read as the default (proto3), not refused.
    let mut unknown_detail = score(ikd(), vec![answer("LD01", "4")]);
    unknown_detail.detail = 99;
    let ok = client.score(req(unknown_detail)).await;
    assert!(ok.is_ok(), "{ok:?}");

    // Sessions that do not exist, or ids that are not session ids.
    for id in ["", "not-a-uuid", "00000000-0000-4000-8000-000000000000"] {
        let err = client
            .get_result(req(api::GetResultRequest {
                session_id: id.into(),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert!(
            matches!(err.code(), Code::NotFound | Code::InvalidArgument),
            "{id:?}: {err:?}"
        );
        if !id.is_empty() {
            assert!(err.message().contains(id), "{id:?}: {err:?}");
        }
    }

    // Oversized fields: a 100,000-answer request exceeds the request size limit.
    let many: Vec<api::Answer> = (0..100_000)
        .map(|k| answer(&format!("X{k}"), "1"))
        .collect();
    let err = client.score(req(score(ikd(), many))).await.unwrap_err();
    assert!(
        matches!(
            err.code(),
            Code::OutOfRange | Code::ResourceExhausted | Code::InvalidArgument
        ),
        "{err:?}"
    );
    // A 64 KiB respondent identifier or organisation unit is refused by name.
    let mut long = score(ikd(), vec![answer("LD01", "4")]);
    long.org_unit = "3".repeat(65_536);
    let err = client.score(req(long)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("org_unit"), "{err:?}");
    // Control characters in an organisation unit.
    let mut control = score(ikd(), vec![answer("LD01", "4")]);
    control.org_unit = "36.72\n/x".into();
    let err = client.score(req(control)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    server.stop();
}
