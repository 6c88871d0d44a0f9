//! The DigComp-2.2-style instrument (`instruments/digcomp-2.2`), added like a
//! user would — five domain plugins made with `ikd plugins new` and a TOML file,
//! no engine change — validated, simulated, scored with both models, and
//! served over gRPC next to the IKD instrument.

use ikd_proto::v1::assessment_service_client::AssessmentServiceClient;
use ikd_proto::v1::{self as api};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::{ikd_binary, workspace};
use std::path::Path;
use std::process::{Command, Output};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

const ID: &str = "digcomp-2.2";
const LEVELS: [&str; 4] = [
    "foundation",
    "intermediate",
    "advanced",
    "highly-specialised",
];
const DOMAINS: [&str; 5] = [
    "information-data",
    "communication",
    "content-creation",
    "safety",
    "problem-solving",
];

fn ikd(args: &[&str]) -> Output {
    Command::new(ikd_binary())
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .env_remove("IKD_INSTRUMENT_PATH")
        .output()
        .expect("ikd runs")
}

#[track_caller]
fn ikd_ok(args: &[&str]) -> String {
    let out = ikd(args);
    assert!(
        out.status.success(),
        "ikd {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Rows of a results CSV as column → value.
fn results(csv_text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn example_answers() -> std::path::PathBuf {
    workspace().join("instruments/digcomp-2.2/examples/answers.csv")
}

#[test]
fn the_instrument_validates_with_its_plugins() {
    let out = ikd(&["validate", ID]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("digcomp-2.2 1.0.0 (5 domains, 31 items"),
        "{stderr}"
    );
    let plugins: serde_json::Value =
        serde_json::from_str(&ikd_ok(&["plugins", "list", "--json"])).unwrap();
    for area in DOMAINS {
        let name = format!("digcomp-{area}");
        let entry = plugins
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} not found"));
        assert_eq!(entry["status"], "loaded", "{entry:#}");
    }
}

/// Every respondent scored, index and domain scores within 0–100, levels among the four.
#[track_caller]
fn check_all_scored(csv_text: &str, n: usize) -> Vec<f64> {
    let rows = results(csv_text);
    assert_eq!(rows.len(), n);
    let mut indices = Vec::new();
    for row in &rows {
        let index: f64 = row["index"]
            .parse()
            .unwrap_or_else(|_| panic!("no index: {row:?}"));
        assert!((0.0..=100.0).contains(&index), "{row:?}");
        assert!(LEVELS.contains(&row["level"].as_str()), "{row:?}");
        for d in DOMAINS {
            let score = &row[&format!("{d}.score")];
            if !score.is_empty() {
                let score: f64 = score.parse().unwrap();
                assert!((0.0..=100.0).contains(&score), "{d}: {row:?}");
                assert!(LEVELS.contains(&row[&format!("{d}.level")].as_str()));
            }
        }
        indices.push(index);
    }
    indices
}

#[test]
fn simulated_answers_score_with_both_models() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.csv");
    let answers = answers.to_str().unwrap();
    ikd_ok(&[
        "simulate",
        "--instrument",
        ID,
        "-n",
        "500",
        "--seed",
        "22",
        "--out",
        answers,
    ]);
    let weighted_csv = ikd_ok(&["score", "--instrument", ID, answers]);
    let weighted = check_all_scored(&weighted_csv, 500);
    let irt = check_all_scored(
        &ikd_ok(&["score", "--instrument", ID, "--model", "irt", answers]),
        500,
    );
    // Two models, two sets of numbers, ordering people alike.
    assert_ne!(weighted, irt);
    let r = pearson(&weighted, &irt);
    assert!(r > 0.9, "weighted index and IRT correlate {r}");
    // The simulated spread reaches every level of the weighted index.
    let rows = results(&weighted_csv);
    for level in LEVELS {
        assert!(rows.iter().any(|r| r["level"] == level), "no {level}");
    }
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

#[test]
fn the_example_answers_give_the_hand_computed_scores() {
    let rows = results(&ikd_ok(&[
        "score",
        "--instrument",
        ID,
        example_answers().to_str().unwrap(),
    ]));
    let row = |id: &str| rows.iter().find(|r| r["respondent_id"] == id).unwrap();
    // DC-001 (docs/instruments/digcomp-2.2.md, "Worked example"): content-creation
    // (0.8333 + 0.875 + 0.8333)/3 → 84.7222; safety (1 + 1 + 0.7083)/3 → 90.2778;
    // problem-solving (0.8333 + 1 + 1)/3 → 94.4444; the other two 100.
    let dc1 = row("DC-001");
    let expected = [
        ("index", "93.8889"),
        ("level", "highly-specialised"),
        ("information-data.score", "100"),
        ("communication.score", "100"),
        ("content-creation.score", "84.7222"),
        ("content-creation.level", "advanced"),
        ("safety.score", "90.2778"),
        ("problem-solving.score", "94.4444"),
    ];
    for (column, value) in expected {
        assert_eq!(dc1[column], value, "DC-001 {column}");
    }
    // DC-004 skipped a whole domain: scored from the other four. DC-005 answered
    // two domains: no index. DC-007 straight-lined, fast: flagged, still scored.
    assert_eq!(row("DC-004")["content-creation.score"], "");
    assert_eq!(row("DC-004")["index"], "80.5556");
    assert_eq!(row("DC-005")["index"], "");
    assert_eq!(row("DC-007")["flags"], "straight-line-all;too-fast");
    assert_eq!(row("DC-008")["index"], "100");
}

/// Adds `authorization: Bearer <token>`.
#[derive(Clone)]
struct Bearer(&'static str);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let value = format!("Bearer {}", self.0).parse().unwrap();
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

type Client = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;

/// The first respondent of an instrument's example answers as a score request.
fn first_example(instrument: &str, file: &Path) -> api::ScoreRequest {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let record = reader.records().next().unwrap().unwrap();
    let mut request = api::ScoreRequest {
        instrument: Some(api::InstrumentRef {
            id: instrument.into(),
            version: String::new(),
        }),
        respondent_id: record[0].to_owned(),
        org_unit: record[1].to_owned(),
        language: "en".into(),
        ..Default::default()
    };
    for (name, value) in header.iter().zip(record.iter()).skip(2) {
        if name == "duration_seconds" {
            request.duration_seconds = value.parse().ok();
        } else {
            request.answers.push(api::Answer {
                item_id: name.clone(),
                value: value.to_owned(),
            });
        }
    }
    request
}

/// The CLI's result for the first respondent of `answers`, as the reference.
fn cli_first_row(instrument: &str, model: &str, answers: &Path) -> (f64, String) {
    let text = ikd_ok(&[
        "score",
        "--instrument",
        instrument,
        "--model",
        model,
        answers.to_str().unwrap(),
    ]);
    let row = &results(&text)[0];
    (row["index"].parse().unwrap(), row["level"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_serves_both_instruments_and_scores_one_respondent_of_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    for instrument in ["ikd-asn-2025", "digcomp-2.2"] {
        options.args.push("--instrument".into());
        let path = workspace().join("instruments").join(instrument);
        options.args.push(path.to_str().unwrap().to_owned());
    }
    let server = TestServer::start(options);
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client: Client =
        AssessmentServiceClient::with_interceptor(channel, Bearer(tokens::SERVICE));

    let list = client
        .list_instruments(api::ListInstrumentsRequest {})
        .await
        .unwrap()
        .into_inner();
    let summary: Vec<(&str, u32, u32, &str)> = list
        .instruments
        .iter()
        .map(|i| (i.id.as_str(), i.domains, i.items, i.model.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (ID, 5, 31, "weighted-index"),
            ("ikd-asn-2025", 5, 60, "weighted-index")
        ]
    );
    let digcomp = client
        .get_instrument(api::GetInstrumentRequest {
            instrument: Some(api::InstrumentRef {
                id: ID.into(),
                version: String::new(),
            }),
            language: "en".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let levels: Vec<&str> = digcomp.levels.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(levels, LEVELS);

    // One respondent of each instrument, each with its own model and, for
    // DigComp, with the alternative IRT model too; the CLI gives the same.
    let ikd_answers = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let digcomp_answers = example_answers();
    let cases = [
        ("ikd-asn-2025", "", ikd_answers.as_path()),
        (ID, "", digcomp_answers.as_path()),
        (ID, "irt", digcomp_answers.as_path()),
    ];
    for (instrument, model, answers) in cases {
        let mut request = first_example(instrument, answers);
        request.model = model.into();
        let result = client
            .score(request)
            .await
            .unwrap_or_else(|e| panic!("{instrument} {model}: {e:?}"))
            .into_inner()
            .result
            .unwrap();
        let reference_model = if model.is_empty() {
            "weighted-index"
        } else {
            model
        };
        let (index, level) = cli_first_row(instrument, reference_model, answers);
        let got = result.index.expect("an index");
        assert!(
            (got - index).abs() < 6e-4,
            "{instrument} {model}: {got} vs {index}"
        );
        assert_eq!(result.level.unwrap().code, level, "{instrument} {model}");
        assert_eq!(result.domains.len(), 5);
        assert!(result.domains.iter().all(|d| d.feedback.is_some()));
    }

    // DigComp respondent DC-001 by hand: 93.8889, highly specialised, with the
    // safety plugin's English feedback for that level group.
    let result = client
        .score(first_example(ID, &example_answers()))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert!((result.index.unwrap() - 93.8889).abs() < 1e-4);
    let safety = &result.domains[3];
    assert_eq!(safety.code, "safety");
    assert_eq!(safety.level.as_ref().unwrap().code, "highly-specialised");
    let feedback = safety.feedback.as_ref().unwrap();
    assert!(
        feedback
            .summary
            .starts_with("You can handle complex security"),
        "{feedback:?}"
    );
    server.stop();
}
