//! `ikd plugins new` end to end, the way a plugin author lives it: generate a
//! crate, `cargo build` it outside the workspace, put the library beside its
//! `plugin.toml`, and have the real `ikd` list it, validate the crate's example
//! instrument and score it; the crate's own `cargo test` passes too.
//!
//! Generated crates build in `target/plugin-new-tests` (not the workspace's
//! `target/debug`), so the SDK's dependencies are compiled once and reused by
//! later runs, offline.

use ikd_tests::{ikd_binary, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `ikd` in `dir` with only the plugins it is given (and the bundled ones).
fn ikd(dir: &Path, args: &[&str]) -> Output {
    Command::new(ikd_binary())
        .args(args)
        .current_dir(dir)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .env_remove("IKD_LOCK_MODE")
        .output()
        .expect("ikd runs")
}

#[track_caller]
fn ikd_ok(dir: &Path, args: &[&str]) -> String {
    let out = ikd(dir, args);
    assert!(
        out.status.success(),
        "ikd {args:?} failed:\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs cargo in a generated crate, offline, in the shared target directory.
fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            workspace().join("target/plugin-new-tests"),
        )
        .output()
        .expect("cargo runs")
}

/// A crate generated into a temporary directory.
struct Generated {
    _root: tempfile::TempDir,
    dir: PathBuf,
}

fn generate(kind: &str, name: &str) -> Generated {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(name);
    let out = ikd(
        root.path(),
        &[
            "plugins",
            "new",
            "--kind",
            kind,
            name,
            "--path",
            dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("created {kind} plugin '{name}'")));
    Generated { _root: root, dir }
}

/// `cargo build` in the crate; the library cargo reports is copied beside
/// `plugin.toml`, where `--plugin-dir` looks for it.
fn build_and_install(dir: &Path) {
    let out = cargo(dir, &["build", "--message-format=json"]);
    assert!(
        out.status.success(),
        "cargo build failed:\n{}",
        text(&out.stderr)
    );
    let library = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.to_string_lossy().ends_with(std::env::consts::DLL_SUFFIX))
        .expect("cargo reported the plugin's cdylib");
    std::fs::copy(&library, dir.join(library.file_name().unwrap())).unwrap();
}

/// The crate's own tests pass; returns how many ran.
fn cargo_test(dir: &Path) -> usize {
    let out = cargo(dir, &["test"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "cargo test failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

/// The entry `plugins list --json` gives for `name`.
fn listed(dir: &Path, name: &str) -> serde_json::Value {
    let list: serde_json::Value = serde_json::from_str(&ikd_ok(
        dir,
        &["--plugin-dir", ".", "plugins", "list", "--json"],
    ))
    .expect("JSON");
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {list:#}"))
        .clone()
}

/// The CSV rows of `ikd score` without the `flags` column.
fn rows_without_flags(csv: &str) -> Vec<String> {
    csv.lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(rest, _)| rest).to_owned())
        .collect()
}

#[test]
fn a_generated_domain_plugin_builds_loads_validates_and_scores() {
    let crate_ = generate("domain", "sample-quiz");
    let dir = crate_.dir.as_path();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let sdk = workspace().join("crates/ikd-plugin-sdk");
    assert!(manifest.contains(&format!(
        "ikd-plugin-sdk = {{ path = \"{}\" }}",
        sdk.display()
    )));
    assert!(manifest.contains("crate-type = [\"cdylib\", \"rlib\"]"));
    assert!(manifest.trim_end().ends_with("[workspace]"));

    build_and_install(dir);
    let entry = listed(dir, "sample-quiz");
    assert_eq!(entry["status"], "loaded", "{entry:#}");
    assert_eq!(entry["kind"], "domain");
    assert_eq!(
        entry["item_kinds"],
        serde_json::json!(["true-false", "likert"])
    );
    assert!(
        entry["path"]
            .as_str()
            .unwrap()
            .contains("libikd_domain_sample_quiz")
    );

    let validated = ikd(
        dir,
        &["--plugin-dir", ".", "validate", "examples/instrument.toml"],
    );
    assert!(validated.status.success(), "{}", text(&validated.stderr));
    assert!(text(&validated.stderr).contains("ok: examples/instrument.toml: sample-quiz-example"));

    // By hand, with the weighted index (indicators: Likert self-rating; true-false knowledge):
    // R001: all best answers → 100. R002: Likert 3, 3 (reverse: 3), 4 → (0.5 + 0.5 + 0.75)/3;
    // true-false right, wrong, "?" (0) → 1/3; domain 100 · (0.58333 + 0.33333)/2 = 45.8333.
    // R003: 4 → 0.75, reverse 2 → 4 → 0.75; right, right → 1; 100 · (0.75 + 1)/2 = 87.5 with
    // 4 of 6 answered. R004: 1 answered (two NA) of the 2 needed → no score.
    let scored = ikd_ok(
        dir,
        &[
            "--plugin-dir",
            ".",
            "score",
            "--instrument",
            "examples/instrument.toml",
            "examples/answers.csv",
        ],
    );
    assert_eq!(
        scored.lines().collect::<Vec<_>>(),
        [
            "respondent_id,org_unit,index,level,index_missing,sample-quiz.score,sample-quiz.level,sample-quiz.answered,sample-quiz.needed,sample-quiz.missing,flags",
            "R001,unit-a,100,advanced,,100,advanced,6,3,,",
            "R002,unit-a,45.8333,basic,,45.8333,basic,6,3,,",
            "R003,unit-b,87.5,advanced,,87.5,advanced,4,3,,",
            // Two of R004's items are "not applicable": 2 of the 4 left are needed.
            "R004,unit-b,,,too-few-domains,,,1,2,too-few-answers,",
        ]
    );

    assert!(cargo_test(dir) >= 7, "the generated tests ran");
}

/// IKD-ASN 2025's items by hand from its instrument.toml: Likert items, forward
/// and reverse-keyed, and keyed single-choice items with their keys. Every other
/// item (multi-select, ranking, credits, ...) is answered "NA" below.
const FORWARD: &[&str] = &[
    "LD01", "LD03", "LD06", "LD10", "BD01", "BD05", "BD10", "PP01", "PP05", "PP09", "EK01", "EK08",
    "EK12", "KD01", "KD05", "KD09",
];
const REVERSE: &[&str] = &[
    "LD02", "LD07", "LD11", "BD02", "BD11", "PP02", "PP06", "PP10", "EK02", "EK07", "EK11", "KD02",
    "KD06", "KD11",
];
const KEYED: &[(&str, &str)] = &[
    ("LD04", "b"),
    ("LD08", "b"),
    ("LD12", "b"),
    ("BD03", "b"),
    ("BD04", "b"),
    ("BD09", "b"),
    ("PP03", "b"),
    ("PP12", "b"),
    ("EK03", "c"),
    ("EK06", "b"),
    ("EK09", "b"),
    ("EK10", "b"),
    ("KD08", "b"),
];

/// Answers to an item, by item id.
type Answering = Box<dyn Fn(&str) -> String>;

/// Answers to IKD-ASN 2025, one row per respondent, with a column for every
/// item in the order of the instrument's example file.
fn ikd_answers(respondents: &[(&str, Answering)]) -> String {
    let example = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let header = std::fs::read_to_string(example).unwrap();
    let header = header.lines().next().unwrap();
    let items: Vec<&str> = header
        .split(',')
        .filter(|c| !["respondent_id", "org_unit", "duration_seconds"].contains(c))
        .collect();
    assert_eq!(items.len(), 60);
    let mut csv = format!("respondent_id,org_unit,{}\n", items.join(","));
    for (id, answer) in respondents {
        let cells: Vec<String> = items.iter().map(|i| answer(i)).collect();
        csv.push_str(&format!("{id},36.72/diskominfo,{}\n", cells.join(",")));
    }
    csv
}

/// Only items whose id starts with `prefix` are answered (others skipped):
/// Likert items with `likert`, keyed items with their key (`Some(true)`), with
/// `a`, which is never a key (`Some(false)`), or not at all (`None`), and every
/// other item with `rest`.
fn answering(
    prefix: &'static str,
    likert: &'static str,
    keyed: Option<bool>,
    rest: &'static str,
) -> impl Fn(&str) -> String {
    move |item: &str| {
        if !item.starts_with(prefix) {
            return String::new();
        }
        if FORWARD.contains(&item) || REVERSE.contains(&item) {
            return likert.to_owned();
        }
        match (KEYED.iter().find(|k| k.0 == item), keyed) {
            (Some((_, key)), Some(true)) => (*key).to_owned(),
            (Some(_), Some(false)) => "a".to_owned(),
            (Some(_), None) => String::new(),
            (None, _) => rest.to_owned(),
        }
    }
}

#[test]
fn a_generated_scoring_model_builds_loads_and_scores_the_ikd_instrument() {
    let crate_ = generate("scoring-model", "mean-score");
    let dir = crate_.dir.as_path();
    build_and_install(dir);
    let entry = listed(dir, "mean-score");
    assert_eq!(entry["status"], "loaded", "{entry:#}");
    assert_eq!(entry["kind"], "scoring-model");

    let validated = ikd(
        dir,
        &["--plugin-dir", ".", "validate", "examples/instrument.toml"],
    );
    assert!(validated.status.success(), "{}", text(&validated.stderr));
    // By hand: R002 information (0.75 + 0.75 + 0)/3 → 50, security (0.5 + 0 + 0.5)/3 →
    // 33.3333, index 0.6 · 50 + 0.4 · 33.3333 = 43.3333; R003 security unanswered → no index.
    let scored = ikd_ok(
        dir,
        &[
            "--plugin-dir",
            ".",
            "score",
            "--instrument",
            "examples/instrument.toml",
            "examples/answers.csv",
        ],
    );
    assert_eq!(
        scored.lines().skip(1).collect::<Vec<_>>(),
        [
            "R001,unit-a,100,high,,100,high,3,2,,100,high,3,2,,",
            "R002,unit-a,43.3333,middle,,50,middle,3,2,,33.3333,low,3,2,,",
            "R003,unit-b,,,too-few-domains,62.5,middle,2,2,,,,0,2,too-few-answers,",
        ]
    );

    // The bundled IKD instrument with `--model mean-score`. R1: Likert 4 (forward 0.75,
    // reverse 0.25), keyed items right (1), the rest NA, so per domain
    // (0.75·F + 0.25·R + K) / (F + R + K):
    //   LD F4 R3 K3 → 6.75/10 = 67.5    BD F3 R2 K3 → 5.75/8 = 71.875   PP F3 R3 K2 → 5/8 = 62.5
    //   EK F3 R3 K4 → 7/10 = 70         KD F3 R3 K1 → 4/7 = 57.1429
    //   index: the mean (weights 0.2 each) = 65.8036.
    // R2: Likert 2 (0.25 / 0.75), keyed items wrong (0): LD 3.25/10, BD 2.25/8, PP 3/8, EK 3/10,
    //   KD 3/7 → 32.5, 28.125, 37.5, 30, 42.8571; index 34.1964.
    // R3: only literasi-digital: Likert 5 (forward 1, reverse 0) and LD04 right, the rest of
    //   the domain skipped: 8 of 12 answered (60 % → 8 needed) → (4 + 0 + 1)/8 = 62.5; no
    //   other domain, so no index. R4: the same without LD04: 7 of 12 → no score.
    let ld_likert = answering("LD", "5", None, "");
    let answers_csv = ikd_answers(&[
        ("R1", Box::new(answering("", "4", Some(true), "NA"))),
        ("R2", Box::new(answering("", "2", Some(false), "NA"))),
        (
            "R3",
            Box::new(move |i: &str| match i {
                "LD04" => "b".to_owned(),
                _ => ld_likert(i),
            }),
        ),
        ("R4", Box::new(answering("LD", "5", None, ""))),
    ]);
    std::fs::write(dir.join("ikd-answers.csv"), answers_csv).unwrap();
    let scored = ikd_ok(
        dir,
        &[
            "--plugin-dir",
            ".",
            "score",
            "--instrument",
            "ikd-asn-2025",
            "--model",
            "mean-score",
            "ikd-answers.csv",
        ],
    );
    assert_eq!(
        rows_without_flags(&scored)[1..],
        [
            // Needed per domain: max(5, ⌈0.6 · applicable items⌉) — 6 of R1's 10 applicable,
            // 8 of 12 (LD) and 7 of 11 when every item applies.
            "R1,36.72/diskominfo,65.8036,tinggi,,67.5,tinggi,10,6,,71.875,tinggi,8,5,,62.5,tinggi,8,5,,70,tinggi,10,6,,57.1429,sedang,7,5,",
            "R2,36.72/diskominfo,34.1964,rendah,,32.5,rendah,10,6,,28.125,rendah,8,5,,37.5,rendah,8,5,,30,rendah,10,6,,42.8571,sedang,7,5,",
            "R3,36.72/diskominfo,,,too-few-domains,62.5,tinggi,8,8,,,,0,8,too-few-answers,,,0,8,too-few-answers,,,0,8,too-few-answers,,,0,7,too-few-answers",
            "R4,36.72/diskominfo,,,too-few-domains,,,7,8,too-few-answers,,,0,8,too-few-answers,,,0,8,too-few-answers,,,0,8,too-few-answers,,,0,7,too-few-answers",
        ]
    );
    // The instrument's own model gives other numbers: `--model` chose the new one.
    let own = ikd_ok(
        dir,
        &["score", "--instrument", "ikd-asn-2025", "ikd-answers.csv"],
    );
    assert_ne!(rows_without_flags(&own)[1], rows_without_flags(&scored)[1]);

    assert!(cargo_test(dir) >= 5, "the generated tests ran");
}

#[test]
fn a_generated_selector_builds_loads_and_runs_a_simulation_study() {
    let crate_ = generate("selector", "nearest");
    let dir = crate_.dir.as_path();
    build_and_install(dir);
    let entry = listed(dir, "nearest");
    assert_eq!(entry["status"], "loaded", "{entry:#}");
    assert_eq!(entry["kind"], "selector");
    let out = ikd(
        dir,
        &[
            "--plugin-dir",
            ".",
            "cat",
            "simulate",
            "--simulated-bank",
            "60",
            "-n",
            "50",
            "--selector-plugin",
            "nearest",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["selector"], "nearest");
    assert_eq!(report["selector_plugin"]["name"], "nearest");
    assert_eq!(report["persons"], 50);
    assert_eq!(cargo_test(dir), 2);
}

#[test]
fn bad_names_used_directories_and_sdk_sources_are_refused_or_honoured() {
    let root = tempfile::tempdir().unwrap();
    for bad in ["Sample", "1sample", "sample_quiz", "sample-"] {
        let out = ikd(root.path(), &["plugins", "new", "--kind", "domain", bad]);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(
            text(&out.stderr).contains(&format!("invalid plugin name '{bad}'")),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read_dir(root.path()).unwrap().count(),
        0,
        "nothing written"
    );

    // Default directory ./NAME, from a registry version; then NAME is taken.
    let out = ikd(
        root.path(),
        &[
            "plugins",
            "new",
            "--kind",
            "scoring-model",
            "by-version",
            "--sdk-version",
            "0.1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(root.path().join("by-version/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("ikd-plugin-sdk = { version = \"0.1\" }"),
        "{manifest}"
    );
    assert!(manifest.contains("ikd-plugin-sdk = { version = \"0.1\", features = [\"testing\"] }"));
    assert!(!manifest.contains("path ="));
    let out = ikd(
        root.path(),
        &["plugins", "new", "--kind", "domain", "by-version"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("by-version is not empty"),
        "{}",
        text(&out.stderr)
    );

    let out = ikd(
        root.path(),
        &[
            "plugins",
            "new",
            "--kind",
            "domain",
            "elsewhere",
            "--sdk-path",
            root.path().to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no SDK at"),
        "{}",
        text(&out.stderr)
    );
    assert!(!root.path().join("elsewhere").exists());
}
