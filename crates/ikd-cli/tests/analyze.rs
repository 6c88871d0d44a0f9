//! `ikd analyze` and `ikd compare` end to end: the bundled instrument with its
//! example answers and with simulated ones, and a hand-made instrument whose
//! statistics are worked out below.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The plugins `ikd` loads are libraries that cargo puts beside the binary;
/// `cargo test -p ikd-cli` alone does not build them, so build the ones these
/// tests use (once per test process, in the test's own profile).
fn build_plugins() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo.arg("build").current_dir(workspace());
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        for package in [
            "ikd-domain-literasi-digital",
            "ikd-domain-budaya-data",
            "ikd-domain-pelayanan-publik",
            "ikd-domain-etika-keamanan",
            "ikd-domain-kepemimpinan-digital",
            "ikd-scoring-weighted-index",
            "ikd-fixture-minimal-domain",
        ] {
            cargo.args(["-p", package]);
        }
        let out = cargo.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "building the plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Runs `ikd` with the bundled plugins and the fixture plugin `minimal-domain`.
fn ikd(args: &[&str]) -> Output {
    build_plugins();
    Command::new(env!("CARGO_BIN_EXE_ikd"))
        .arg("--plugin-dir")
        .arg(workspace().join("tests/fixtures/plugins/minimal-domain"))
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .env_remove("IKD_LOCK_MODE")
        .output()
        .expect("ikd runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(args: &[&str]) -> Value {
    let out = ikd(args);
    assert!(out.status.success(), "ikd {args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn example_answers() -> String {
    workspace()
        .join("instruments/ikd-asn-2025/examples/answers.csv")
        .display()
        .to_string()
}

/// `ikd simulate --instrument ikd-asn-2025 -n 2000 --seed 3`, written once.
fn simulated_answers() -> PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let file = dir.join("answers.csv");
        let out = ikd(&[
            "simulate",
            "--instrument",
            "ikd-asn-2025",
            "-n",
            "2000",
            "--seed",
            "3",
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        file
    })
    .clone()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, got {v}"))
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

/// What every domain of an `analyze` report must look like.
fn check_domain_shape(domain: &Value, respondents: u64) {
    let code = domain["code"].as_str().unwrap();
    let items = domain["item_stats"].as_array().unwrap();
    assert_eq!(domain["items"].as_u64().unwrap() as usize, items.len());
    assert!(domain["respondents"].as_u64().unwrap() <= respondents);
    assert!(domain["complete_cases"].as_u64() <= domain["respondents"].as_u64());
    let alpha = f(&domain["alpha"]);
    assert!(alpha > 0.0 && alpha < 1.0, "{code}: alpha {alpha}");
    let ci = &domain["alpha_ci"];
    assert_eq!(ci["method"], "feldt");
    assert_eq!(ci["level"], 0.95);
    assert!(
        f(&ci["lower"]) < alpha && alpha < f(&ci["upper"]),
        "{code}: {ci}"
    );
    let omega = f(&domain["omega"]["total"]);
    assert!(omega > 0.0 && omega <= 1.0, "{code}: omega {omega}");
    for item in items {
        let rate = f(&item["missing_rate"]);
        assert!((0.0..=1.0).contains(&rate));
        assert!(item["answered"].as_u64().unwrap() <= respondents);
        for key in [
            "id",
            "kind",
            "mean",
            "sd",
            "item_rest_r",
            "alpha_if_deleted",
            "loading",
        ] {
            assert!(
                item.get(key).is_some(),
                "{code}: item without {key}: {item}"
            );
        }
        if item["in_scale"] == true {
            let r = f(&item["item_rest_r"]);
            assert!((-1.0..=1.0).contains(&r), "{item}");
        }
    }
}

#[test]
fn analyze_reports_every_domain_of_the_example_answers() {
    let report = json(&[
        "analyze",
        "--instrument",
        "ikd-asn-2025",
        "--format",
        "json",
        &example_answers(),
    ]);
    assert_eq!(report["instrument"]["id"], "ikd-asn-2025");
    assert_eq!(report["respondents"], 36);
    assert_eq!(report["bootstrap"], Value::Null);
    let domains = report["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 5);
    let items: usize = domains
        .iter()
        .map(|d| d["item_stats"].as_array().unwrap().len())
        .sum();
    assert_eq!(items, 60);
    for domain in domains {
        check_domain_shape(domain, 36);
    }
    let flags = &report["quality_flags"];
    for key in [
        "straight-line-run",
        "straight-line-all",
        "too-fast",
        "flagged",
    ] {
        assert!(flags[key].as_u64().is_some(), "{flags}");
    }
    assert!(
        report["definitions"]["omega_total"]
            .as_str()
            .unwrap()
            .contains("Σλ")
    );

    let text = ikd(&[
        "analyze",
        "--instrument",
        "ikd-asn-2025",
        &example_answers(),
    ]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8(text.stdout).unwrap();
    for needle in [
        "literasi-digital",
        "alpha",
        "Feldt",
        "omega total",
        "item-rest",
        "LD01",
        "quality flags",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[test]
fn analyze_finds_consistent_domains_in_simulated_answers() {
    let answers = simulated_answers();
    let args = [
        "analyze",
        "--instrument",
        "ikd-asn-2025",
        "--format",
        "json",
        "--bootstrap",
        "50",
        "--seed",
        "9",
        answers.to_str().unwrap(),
    ];
    let report = json(&args);
    assert_eq!(report["respondents"], 2000);
    assert_eq!(report["bootstrap"]["replicates"], 50);
    for domain in report["domains"].as_array().unwrap() {
        check_domain_shape(domain, 2000);
        let code = domain["code"].as_str().unwrap();
        // One latent trait drives every item of the simulation: a consistent scale.
        let alpha = f(&domain["alpha"]);
        assert!(alpha > 0.6 && alpha < 0.99, "{code}: alpha {alpha}");
        let ci = &domain["alpha_ci"];
        assert!(f(&ci["upper"]) - f(&ci["lower"]) < 0.06, "{code}: {ci}");
        let boot = &domain["alpha_bootstrap"];
        assert_eq!(
            (boot["replicates"].as_u64(), boot["used"].as_u64()),
            (Some(50), Some(50))
        );
        assert!(
            f(&boot["lower"]) <= alpha && alpha <= f(&boot["upper"]),
            "{code}: {boot}"
        );
        assert!(domain["omega"]["converged"] == true);
        for item in domain["item_stats"].as_array().unwrap() {
            assert!(f(&item["item_rest_r"]) > 0.0, "{code}: {item}");
        }
    }
    // The same seed gives the same report.
    assert_eq!(json(&args), report);
}

/// The hand-computed instrument (tests/fixtures/instruments/hand-computed.toml):
/// alpha = A1 (likert 1–5), A2 (likert, reversed: 6 − answer), A3 (keyed b;
/// "x" is don't know, scored 0); beta = B1 (likert), B2 (credits a 1, b 0.5, c 0).
const HAND: &str = "respondent_id,org_unit,A1,A2,A3,B1,B2,duration_seconds
r1,36.72/bkpsdm,1,4,x,3,c,900
r2,36.72/bkpsdm,2,4,b,3,b,50
r3,36.72/bkpsdm,3,2,b,,a,900
r4,36.72/bkpsdm,4,2,b,5,a,900
";

fn hand_instrument() -> String {
    workspace()
        .join("tests/fixtures/instruments/hand-computed.toml")
        .display()
        .to_string()
}

#[test]
fn analyze_matches_a_hand_computation_on_a_tiny_instrument() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.csv");
    std::fs::write(&answers, HAND).unwrap();
    let report = json(&[
        "analyze",
        "--instrument",
        &hand_instrument(),
        "--format",
        "json",
        answers.to_str().unwrap(),
    ]);
    let [alpha, beta] = [&report["domains"][0], &report["domains"][1]];

    // alpha: scores A1 = 1, 2, 3, 4 (var 5/3); A2 = 2, 2, 4, 4 (var 4/3);
    // A3 = 0 (don't know, answered), 1, 1, 1 (var 1/4). Totals 3, 5, 8, 9:
    // mean 6.25, SS 22.75 → var 91/12. α = 3/2·(1 − (13/4)/(91/12)) = 3/2·(4/7) = 6/7.
    assert!(close(&alpha["alpha"], 6.0 / 7.0), "{}", alpha["alpha"]);
    let a3 = &alpha["item_stats"][2];
    assert_eq!(
        (a3["answered"].as_u64(), a3["dont_know"].as_u64()),
        (Some(4), Some(1))
    );
    assert!(close(&a3["mean"], 0.75) && close(&a3["sd"], 0.5));
    // A1 against A2 + A3 = 2, 3, 5, 5: Σdd = 1.5·1.75 + 0.5·0.75 + 0.5·1.25 + 1.5·1.25 = 5.5,
    // SS 5 and 6.75 → r = 5.5/√33.75.
    assert!(close(
        &alpha["item_stats"][0]["item_rest_r"],
        5.5 / 33.75f64.sqrt()
    ));
    assert!(alpha["omega"]["total"].as_f64().is_some());

    // beta: B1 = 3, 3, –, 5 (r3 skipped); B2 = 0, 0.5, 1, 1. Pairwise:
    // var(B1) over r1, r2, r4 = 4/3; var(B2) over all = 11/48; cov over r1, r2, r4
    // (B2 = 0, 0.5, 1) = 1/2. Sum 75/48 + 1 = 123/48 → α = 2·(1 − 75/123) = 32/41.
    assert!(close(&beta["alpha"], 32.0 / 41.0), "{}", beta["alpha"]);
    let b1 = &beta["item_stats"][0];
    assert_eq!(
        (b1["answered"].as_u64(), b1["skipped"].as_u64()),
        (Some(3), Some(1))
    );
    assert!(close(&b1["missing_rate"], 0.25));
    assert_eq!(
        (
            beta["respondents"].as_u64(),
            beta["complete_cases"].as_u64()
        ),
        (Some(4), Some(3))
    );
    // Two items identify no factor: no omega, no α if an item is deleted.
    assert_eq!(beta["omega"], Value::Null);
    assert_eq!(b1["alpha_if_deleted"], Value::Null);

    // r2 took 50 s, under the instrument's 100 s.
    assert_eq!(report["quality_flags"]["too-fast"], 1);
    assert_eq!(report["quality_flags"]["flagged"], 1);
}

/// Four respondents, two of whom skipped items: the pairwise covariances of
/// alpha's items are those of `crates/ikd-analysis/tests/degenerate.rs`
/// (indefinite), on which psych reports α = 1.02, item–rest r up to 1.17 and
/// the Feldt "interval" [1.13, 1]. `ikd analyze` prints none of that and
/// says why, in text and JSON.
#[test]
fn analyze_on_four_respondents_withholds_what_they_cannot_support() {
    // The hand-computed instrument with A3 a likert item: alpha's scores are
    // A1 = 5, 3, 4, 2; A2 (reversed, 6 − answer) = 4, 2, –, 2; A3 = 4, 2, –, 1.
    let text = std::fs::read_to_string(hand_instrument()).unwrap();
    let start = text.find("[[items]]\nid = \"A3\"").unwrap();
    let end = text.find("[[items]]\nid = \"B1\"").unwrap();
    let likert_a3 = "[[items]]\nid = \"A3\"\ndomain = \"alpha\"\nindicator = \"a2\"\n\
                     kind = \"likert\"\nscale = \"s5\"\ntext = { id = \"Saya\", en = \"I\" }\n\n";
    let dir = tempfile::tempdir().unwrap();
    let instrument = dir.path().join("instrument.toml");
    std::fs::write(
        &instrument,
        format!("{}{likert_a3}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let answers = dir.path().join("answers.csv");
    std::fs::write(
        &answers,
        "respondent_id,org_unit,A1,A2,A3,B1,B2\n\
         r1,36.72/bkpsdm,5,2,4,3,a\n\
         r2,36.72/bkpsdm,3,4,2,4,b\n\
         r3,36.72/bkpsdm,4,,,5,c\n\
         r4,36.72/bkpsdm,2,4,1,2,a\n",
    )
    .unwrap();
    let (instrument, answers) = (instrument.to_str().unwrap(), answers.to_str().unwrap());
    let report = json(&[
        "analyze",
        "--instrument",
        instrument,
        "--format",
        "json",
        "--bootstrap",
        "20",
        answers,
    ]);
    let withheld = |domain: &Value, statistic: &str| -> Vec<Value> {
        domain["withheld"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["statistic"] == statistic)
            .cloned()
            .collect()
    };
    for domain in report["domains"].as_array().unwrap() {
        let code = &domain["code"];
        // Nothing out of range; every missing statistic has its reason.
        match domain["alpha"].as_f64() {
            Some(alpha) => assert!(alpha <= 1.0, "{code}: alpha {alpha}"),
            None => assert!(!withheld(domain, "alpha").is_empty(), "{domain}"),
        }
        match &domain["alpha_ci"] {
            Value::Null => assert!(!withheld(domain, "Feldt interval of alpha").is_empty()),
            ci => assert!(f(&ci["lower"]) <= f(&ci["upper"]), "{code}: {ci}"),
        }
        if domain["alpha_bootstrap"].is_null() {
            assert!(!withheld(domain, "bootstrap interval of alpha").is_empty());
        }
        if domain["omega"].is_null() {
            assert!(!withheld(domain, "omega").is_empty(), "{domain}");
        }
        for item in domain["item_stats"].as_array().unwrap() {
            for key in ["item_rest_r", "loading"] {
                if let Some(r) = item[key].as_f64() {
                    assert!(r.abs() <= 1.0, "{code}: {key} {r}");
                }
            }
            if let Some(a) = item["alpha_if_deleted"].as_f64() {
                assert!(a <= 1.0, "{code}: {item}");
            }
        }
        for note in domain["withheld"].as_array().unwrap() {
            assert!(!note["reason"].as_str().unwrap().is_empty(), "{note}");
        }
    }
    let [alpha, beta] = [&report["domains"][0], &report["domains"][1]];
    assert_eq!(alpha["alpha"], Value::Null);
    for item in alpha["item_stats"].as_array().unwrap() {
        assert_eq!(item["item_rest_r"], Value::Null, "{item}");
    }
    let reason = &withheld(alpha, "alpha")[0];
    assert_eq!(reason["code"], "not-positive-semidefinite", "{reason}");
    assert_eq!(reason["item"], Value::Null);
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("not positive semidefinite"),
        "{reason}"
    );
    // beta: complete answers of 4 respondents give α, but no interval.
    assert!(beta["alpha"].as_f64().is_some(), "{beta}");
    let interval = &withheld(beta, "Feldt interval of alpha")[0];
    assert_eq!(interval["code"], "too-few-respondents");
    assert_eq!(interval["reason"], "4 respondent(s); needs 10");

    let out = ikd(&["analyze", "--instrument", instrument, answers]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\n  alpha -\n"), "{text}");
    assert!(!text.contains("CI ["), "no interval printed: {text}");
    assert!(text.contains("withheld (shown as -):"), "{text}");
    assert!(
        text.contains("    alpha, ") && text.contains("not positive semidefinite"),
        "{text}"
    );
    assert!(
        text.contains("Feldt interval of alpha") && text.contains("4 respondent(s); needs 10"),
        "{text}"
    );
}

#[test]
fn analyze_refuses_invalid_answers_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.csv");
    std::fs::write(
        &answers,
        HAND.replace("r3,36.72/bkpsdm,3,", "r3,36.72/bkpsdm,9,"),
    )
    .unwrap();
    let out = ikd(&[
        "analyze",
        "--instrument",
        &hand_instrument(),
        answers.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("answers.csv:4:") && err.contains("'r3'") && err.contains("'A1'"),
        "{err}"
    );
    assert!(err.contains("nothing analysed"), "{err}");
    assert!(out.stdout.is_empty());
}

fn check_perfect_agreement(report: &Value, respondents: u64) {
    assert_eq!(report["respondents"], respondents);
    let models = report["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"], "weighted-index");
    let comparisons = report["comparisons"].as_array().unwrap();
    assert_eq!(comparisons[0]["code"], "index");
    for c in comparisons {
        assert!(c["pairs"].as_u64().unwrap() > 0, "{c}");
        assert_eq!(
            (c["only_a"].as_u64(), c["only_b"].as_u64()),
            (Some(0), Some(0)),
            "{c}"
        );
        assert!(close(&c["pearson"], 1.0), "{c}");
        assert!(close(&c["spearman"], 1.0), "{c}");
        assert!(close(&c["kappa"], 1.0), "{c}");
        assert!(close(&c["level_agreement"], 1.0), "{c}");
        assert!(close(&c["mean_difference"], 0.0), "{c}");
        assert_eq!(c["level_changes"], 0);
    }
    assert_eq!(report["top_changes"], serde_json::json!([]));
}

#[test]
fn compare_of_a_model_with_itself_agrees_perfectly() {
    let args = |answers: &str, format: &'static str| {
        vec![
            "compare".to_owned(),
            "--instrument".into(),
            "ikd-asn-2025".into(),
            "--models".into(),
            "weighted-index,weighted-index".into(),
            "--format".into(),
            format.into(),
            answers.to_owned(),
        ]
    };
    let run = |a: &[String]| json(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let example = run(&args(&example_answers(), "json"));
    check_perfect_agreement(&example, 36);
    assert_eq!(example["comparisons"].as_array().unwrap().len(), 6);
    let simulated = simulated_answers();
    check_perfect_agreement(&run(&args(simulated.to_str().unwrap(), "json")), 2000);

    let text = ikd(&args(&example_answers(), "text")
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("No respondent changes composite level."),
        "{text}"
    );
    assert!(text.contains("kepemimpinan-digital"), "{text}");
}

#[test]
fn compare_counts_respondents_without_a_score_instead_of_pairing_them() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.csv");
    // r5 answers nothing: no domain score, no index under either model.
    std::fs::write(&answers, format!("{HAND}r5,36.72/bkpsdm,,,,,,900\n")).unwrap();
    let report = json(&[
        "compare",
        "--instrument",
        &hand_instrument(),
        "--models",
        "weighted-index,weighted-index",
        "--settings",
        "weighted-index={}",
        "--format",
        "json",
        answers.to_str().unwrap(),
    ]);
    let index = &report["comparisons"][0];
    assert_eq!(
        (index["pairs"].as_u64(), index["neither"].as_u64()),
        (Some(4), Some(1))
    );
    assert!(
        close(&index["kappa"], 1.0) || index["kappa"].is_null(),
        "{index}"
    );
    assert!(close(&index["pearson"], 1.0));
    assert_eq!(report["models"][0]["settings"], serde_json::json!({}));
}

#[test]
fn compare_refuses_what_it_cannot_compare() {
    let answers = example_answers();
    let cases: [(&[&str], &str); 4] = [
        (&["--models", "weighted-index"], "exactly two"),
        (
            &[
                "--models",
                "weighted-index,weighted-index",
                "--settings",
                "irt={}",
            ],
            "not compared",
        ),
        (
            &[
                "--models",
                "weighted-index,weighted-index",
                "--settings",
                "weighted-index=[1",
            ],
            "not valid JSON",
        ),
        (
            &[
                "--models",
                "weighted-index,weighted-index",
                "--settings",
                "weighted-index={\"bogus\":1}",
            ],
            "bogus",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["compare", "--instrument", "ikd-asn-2025"];
        args.extend_from_slice(extra);
        args.push(&answers);
        let out = ikd(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}
