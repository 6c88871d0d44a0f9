//! The `ikd` binary end to end: validate, plugins, simulate, score, and bad input.

use ikd_tests::{built_plugin, fixture_instrument, ikd_binary, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `ikd` with the fixture plugins (found beside it after cargo built them) in reach.
fn ikd(args: &[&str]) -> Output {
    for fixture in ["minimal-domain", "panicking", "wrong-abi", "wrong-magic"] {
        built_plugin(&format!("ikd-fixture-{fixture}"));
    }
    Command::new(ikd_binary())
        .arg("--plugin-dir")
        .arg(workspace().join("tests/fixtures/plugins"))
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .output()
        .expect("ikd runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn instrument() -> String {
    fixture_instrument("hand-computed.toml")
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn validate_accepts_a_good_instrument_and_lists_every_problem_of_a_bad_one() {
    let ok = ikd(&["validate", &instrument()]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stderr(&ok).contains("ok: ") && stderr(&ok).contains("hand 1.0.0"));

    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture_instrument("hand-computed.toml")).unwrap();
    let broken = text.replacen("id = \"A2\"", "id = \"A1\"", 1).replacen(
        "domain = \"beta\"\nindicator = \"b1\"\nkind = \"likert\"",
        "domain = \"gamma\"\nindicator = \"b1\"\nkind = \"likert\"",
        1,
    );
    let bad = write(dir.path(), "broken.toml", &broken);
    let out = ikd(&["validate", &instrument(), p(&bad)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("broken.toml:"), "{err}");
    assert!(
        err.contains("'A1'") && err.contains("gamma"),
        "both errors are reported: {err}"
    );

    let malformed = write(
        dir.path(),
        "malformed.toml",
        "[instrument]\nid = \"x\"\nversion = \n",
    );
    let out = ikd(&["validate", p(&malformed)]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("malformed.toml:3:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plugins_list_shows_loaded_and_refused_plugins() {
    let out = ikd(&["plugins", "list", "--json"]);
    // The fixtures include plugins that must be refused: the list is printed, and the
    // exit code says that the installation is not whole.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("plugin(s) refused"),
        "{}",
        stderr(&out)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))
            .clone()
    };
    let wi = row("weighted-index");
    assert_eq!(wi["status"], "loaded");
    assert_eq!(wi["kind"], "scoring-model");
    assert_eq!(wi["abi"], format!("1.{}", ikd_plugin_sdk::abi::ABI_MINOR));
    assert_eq!(wi["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        row("minimal-domain")["item_kinds"],
        serde_json::json!(["likert", "single-choice"])
    );
    let bad = row("wrong-abi");
    assert_eq!(bad["status"], "refused");
    assert!(bad["reason"].as_str().unwrap().contains("ABI 2.0"));

    let table = ikd(&["plugins", "list"]);
    assert!(stdout(&table).starts_with("name\tkind\tversion\tabi\tsha256\tstatus\tpath\n"));
}

#[test]
fn simulate_then_score_round_trips_through_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.csv");
    let sim = ikd(&[
        "simulate",
        "--instrument",
        &instrument(),
        "-n",
        "300",
        "--seed",
        "5",
        "--out",
        p(&answers),
    ]);
    assert!(sim.status.success(), "{}", stderr(&sim));
    let again = ikd(&[
        "simulate",
        "--instrument",
        &instrument(),
        "-n",
        "300",
        "--seed",
        "5",
    ]);
    assert_eq!(
        std::fs::read(&answers).unwrap(),
        again.stdout,
        "same seed, same answers"
    );

    let results = dir.path().join("results.csv");
    let out = ikd(&[
        "score",
        "--instrument",
        &instrument(),
        "--out",
        p(&results),
        p(&answers),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_path(&results).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "respondent_id",
            "org_unit",
            "index",
            "level",
            "index_missing",
            "alpha.score",
            "alpha.level",
            "alpha.answered",
            "alpha.needed",
            "alpha.missing",
            "beta.score",
            "beta.level",
            "beta.answered",
            "beta.needed",
            "beta.missing",
            "flags"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 300);
    let mut ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    ids.dedup();
    assert_eq!(ids.len(), 300);
    let indices: Vec<f64> = rows.iter().filter_map(|r| r[2].parse().ok()).collect();
    assert!(indices.len() > 280, "nearly everyone gets an index");
    assert!(indices.iter().all(|x| (0.0..=100.0).contains(x)));
    let spread = indices.iter().cloned().fold(f64::MIN, f64::max)
        - indices.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread > 40.0,
        "latent-trait answers spread the index: {spread}"
    );
    for r in &rows {
        assert!(
            ["", "rendah", "sedang", "tinggi"].contains(&&r[3]),
            "level {}",
            &r[3]
        );
    }

    let out = ikd(&[
        "score",
        "--instrument",
        &instrument(),
        "--format",
        "json",
        p(&answers),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects = json.as_array().unwrap();
    assert_eq!(objects.len(), 300);
    assert_eq!(objects[0]["respondent_id"], rows[0][0].to_string());
    assert_eq!(objects[0]["provenance"]["instrument_id"], "hand");
    assert_eq!(objects[0]["provenance"]["model"]["name"], "weighted-index");
    let first_index = objects[0]["index"].as_f64();
    let csv_index: Option<f64> = rows[0][2].parse().ok();
    assert_eq!(first_index.map(|x| (x * 1e4).round() / 1e4), csv_index);
}

/// A valid answers file of the hand-computed instrument, to break one way at a time.
const GOOD: &str =
    "respondent_id,org_unit,A1,A2,A3,B1,B2\nr1,36.72/bkpsdm,5,2,b,3,b\nr2,36.72/bkpsdm,1,5,x,,\n";

fn score_bad(answers: &str) -> (Output, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "answers.csv", answers);
    let results = dir.path().join("results.csv");
    let out = ikd(&[
        "score",
        "--instrument",
        &instrument(),
        "--out",
        p(&results),
        p(&file),
    ]);
    (out, results, dir)
}

#[test]
fn good_answers_score_to_the_hand_computed_result() {
    let (out, results, _dir) = score_bad(GOOD);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(results).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Needed (min_answered 1, min_answered_fraction 0.5): alpha ⌈0.5 · 3⌉ = 2,
    // beta ⌈0.5 · 2⌉ = 1; r2 answered none of beta's.
    assert_eq!(
        lines[1],
        "r1,36.72/bkpsdm,81.25,tinggi,,91.6667,tinggi,3,2,,50,sedang,2,1,,"
    );
    assert_eq!(
        lines[2],
        "r2,36.72/bkpsdm,0,rendah,,0,rendah,3,2,,,,0,1,too-few-answers,"
    );
}

/// Every absent value says why, in the CSV and the JSON: beta all `NA`
/// (nothing applies, nothing needed); alpha 1 answer of ⌈0.5 · 3⌉ = 2 and
/// beta skipped, so no domain and no index (min_domains 1).
#[test]
fn absent_values_say_why_in_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let answers = write(
        dir.path(),
        "answers.csv",
        "respondent_id,org_unit,A1,A2,A3,B1,B2
\
         na,36.72,5,2,b,NA,NA
\
         few,36.72,5,,,,
",
    );
    let csv_out = dir.path().join("results.csv");
    let json_out = dir.path().join("results.json");
    for (format, out) in [("csv", &csv_out), ("json", &json_out)] {
        let run = ikd(&[
            "score",
            "--instrument",
            &instrument(),
            "--format",
            format,
            "--out",
            p(out),
            p(&answers),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1],
        "na,36.72,91.6667,tinggi,,91.6667,tinggi,3,2,,,,0,0,no-applicable-items,"
    );
    assert_eq!(
        lines[2],
        "few,36.72,,,too-few-domains,,,1,2,too-few-answers,,,0,1,too-few-answers,"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    let na = &json[0];
    assert!(na["index_missing"].is_null() && na["domains"][0]["missing"].is_null());
    assert_eq!(
        na["domains"][1]["missing"],
        serde_json::json!({
            "reason": "no-applicable-items", "count": 0, "needed": 0,
            "message": {
                "id": "Tidak dinilai: semua butir dijawab \"tidak berlaku\".",
                "en": "Not scored: every item was answered \"not applicable\"."
            }
        })
    );
    let few = &json[1];
    assert_eq!(few["domains"][0]["needed"], 2);
    assert_eq!(few["domains"][0]["missing"]["reason"], "too-few-answers");
    assert_eq!(few["domains"][0]["missing"]["count"], 1);
    assert_eq!(
        few["domains"][0]["missing"]["message"]["en"],
        "Not scored: 1 of the 2 answers needed were given."
    );
    assert_eq!(
        few["index_missing"],
        serde_json::json!({
            "reason": "too-few-domains", "count": 0, "needed": 1,
            "message": {
                "id": "Indeks tidak dihitung: 0 dari 1 domain yang diperlukan memiliki skor.",
                "en": "No index: 0 of the 1 scored domains needed."
            }
        })
    );
}

/// `ikd score --item-scores`: the item scores after keys, credits and
/// reverse keying, worked out by hand from the instrument
/// (tests/fixtures/instruments/hand-computed.toml): A2 is reversed on 1..5
/// (6 − answer), A3 is keyed `b` with `x` a don't-know (scored 0, kept as
/// data), B2 credits a 1, b 0.5, c 0; skipped and not-applicable cells are
/// empty. Batches of one respondent give the same file.
#[test]
fn score_writes_the_hand_computed_item_scores() {
    let dir = tempfile::tempdir().unwrap();
    let answers = write(
        dir.path(),
        "answers.csv",
        &format!("{GOOD}r3,36.72/bkpsdm,3,,c,NA,a\n"),
    );
    let expected = "respondent_id,org_unit,A1,A2,A3,B1,B2\n\
                    r1,36.72/bkpsdm,5,4,1,3,0.5\n\
                    r2,36.72/bkpsdm,1,1,0,,\n\
                    r3,36.72/bkpsdm,3,,0,,1\n";
    for batch in ["4096", "1"] {
        let items = dir.path().join(format!("items-{batch}.csv"));
        let results = dir.path().join(format!("results-{batch}.csv"));
        let out = ikd(&[
            "score",
            "--instrument",
            &instrument(),
            "--batch",
            batch,
            "--out",
            p(&results),
            "--item-scores",
            p(&items),
            p(&answers),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&items).unwrap(), expected);
        // The results are those of a run without --item-scores.
        let lines = std::fs::read_to_string(&results).unwrap();
        assert_eq!(
            lines.lines().nth(1),
            Some("r1,36.72/bkpsdm,81.25,tinggi,,91.6667,tinggi,3,2,,50,sedang,2,1,,")
        );
    }

    // Invalid answers: neither file is written.
    let bad = write(
        dir.path(),
        "bad.csv",
        &GOOD.replace("r2,36.72/bkpsdm,1,", "r2,36.72/bkpsdm,6,"),
    );
    let items = dir.path().join("bad-items.csv");
    let out = ikd(&[
        "score",
        "--instrument",
        &instrument(),
        "--item-scores",
        p(&items),
        p(&bad),
    ]);
    assert!(!out.status.success());
    assert!(!items.exists(), "no item scores for invalid answers");
}

#[test]
fn bad_answers_fail_naming_file_line_and_item_and_leave_no_output() {
    let cases = [
        (
            GOOD.replace(",B2\n", ",B2,B9\n")
                .replace(",b\n", ",b,1\n")
                .replace(",,\n", ",,,\n"),
            "column 8 'B9' is not an item",
        ),
        (
            GOOD.replace(",B1,B2\n", ",B1\n")
                .replace(",3,b\n", ",3\n")
                .replace(",,\n", ",\n"),
            "missing column(s): B2",
        ),
        (
            GOOD.replace("r2,", "r1,"),
            "answers.csv:3: duplicate respondent_id 'r1' (first at line 2)",
        ),
        (
            GOOD.replace("r2,36.72/bkpsdm,1,", "r2,36.72/bkpsdm,6,"),
            "answers.csv:3: respondent 'r2', item 'A1': 6 is outside the scale 1..5",
        ),
        (
            GOOD.replace(",b,3,b\n", ",q,3,b\n"),
            "answers.csv:2: respondent 'r1', item 'A3': 'q' is not one of the options",
        ),
        (
            GOOD.replace("r2,36.72/bkpsdm,1,5,x,,\n", "r2,36.72/bkpsdm,1,5\n"),
            "answers.csv:3",
        ),
    ];
    for (answers, expected) in cases {
        let (out, results, _dir) = score_bad(&answers);
        assert!(!out.status.success(), "accepted:\n{answers}");
        let err = stderr(&out);
        assert!(err.contains(expected), "expected '{expected}' in:\n{err}");
        assert!(!results.exists(), "no partial output for:\n{answers}");
        let leftovers: Vec<_> = std::fs::read_dir(results.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".ikd-partial"))
            .collect();
        assert!(leftovers.is_empty(), "temporary output removed");
    }
}

#[test]
fn a_lock_written_by_plugins_lock_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("ikd-plugins.lock");
    let out = ikd(&["plugins", "lock", "--out", p(&lock)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(text.contains("name = \"weighted-index\""));

    let answers = write(dir.path(), "answers.csv", GOOD);
    let ok = ikd(&[
        "--plugin-lock",
        p(&lock),
        "score",
        "--instrument",
        &instrument(),
        p(&answers),
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));

    // Pin another hash for the model: enforce mode refuses it, and scoring names why.
    let mut tampered = String::new();
    let mut in_model = false;
    for line in text.lines() {
        in_model = if line.starts_with("name = ") {
            line.contains("weighted-index")
        } else {
            in_model
        };
        if in_model && line.starts_with("sha256 = ") {
            tampered.push_str(&format!("sha256 = \"{}\"\n", "0".repeat(64)));
        } else {
            tampered.push_str(line);
            tampered.push('\n');
        }
    }
    std::fs::write(&lock, tampered).unwrap();
    let refused = ikd(&[
        "--plugin-lock",
        p(&lock),
        "score",
        "--instrument",
        &instrument(),
        p(&answers),
    ]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("weighted-index") && err.contains("refused before opening"),
        "{err}"
    );
}

#[test]
fn a_panicking_plugin_fails_the_run_with_its_name_and_the_process_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture_instrument("hand-computed.toml"))
        .unwrap()
        .replace(
            "plugin = \"minimal-domain\"\nweight = 0.25",
            "plugin = \"panicking\"\nweight = 0.25",
        );
    let inst = write(dir.path(), "instrument.toml", &text);
    let answers = write(
        dir.path(),
        "answers.csv",
        &GOOD.replace(",3,b\n", ",boom,b\n"),
    );
    let out = ikd(&["score", "--instrument", p(&inst), p(&answers)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error exit, not an abort: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("plugin 'panicking' panicked"),
        "{}",
        stderr(&out)
    );
}

/// The line of stderr that reports the error (`error: …`), without the
/// warnings the fixture plugins log.
fn error_line(o: &Output) -> String {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("error: ") || l.contains("respondent"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `ikd` with `args`, returning its output and its peak resident memory
/// in KiB (`wait4`'s `ru_maxrss`, for this child alone).
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which std's `wait` would not report
fn ikd_with_peak_memory(args: &[&str], dir: &Path) -> (Output, u64) {
    use std::os::unix::process::ExitStatusExt;
    built_plugin("ikd-fixture-minimal-domain");
    let (out_path, err_path) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    let child = Command::new(ikd_binary())
        .arg("--plugin-dir")
        .arg(workspace().join("tests/fixtures/plugins/minimal-domain"))
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("ikd runs");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    let output = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    };
    (output, usage.ru_maxrss as u64)
}

/// A header line, a `duration_seconds` cell, a respondent id, and a million
/// columns, each megabytes long: refused with a short error, and the header
/// is refused without being read whole (memory stays bounded).
#[test]
fn oversized_input_is_refused_with_a_short_error_and_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mb = 1 << 20;
    // The baseline: a good file.
    let good = write(dir.path(), "good.csv", GOOD);
    let (out, baseline) = ikd_with_peak_memory(
        &["score", "--instrument", &instrument(), p(&good)],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // A 16 MiB header line (one column name): refused once it passes the
    // header limit, naming the limit; memory stays near the baseline.
    let mut header = "respondent_id,org_unit,A1,A2,A3,B1,B2,".to_owned();
    header.push_str(&"h".repeat(16 * mb));
    let long_header = write(
        dir.path(),
        "header.csv",
        &format!("{header}\nr1,36.72,5,2,b,3,b,1\n"),
    );
    let (out, peak) = ikd_with_peak_memory(
        &["score", "--instrument", &instrument(), p(&long_header)],
        dir.path(),
    );
    let err = error_line(&out);
    eprintln!(
        "16 MiB header: peak {peak} KiB (a good file: {baseline} KiB), {} bytes of error",
        err.len()
    );
    assert!(!out.status.success());
    assert!(err.len() < 1024, "{} bytes of error", err.len());
    assert!(
        err.contains("header.csv") && err.contains("longer than"),
        "{err}"
    );
    assert!(
        peak < baseline + 8 * 1024,
        "peak {peak} KiB, baseline {baseline} KiB: the header was read whole"
    );

    // Oversized cells are quoted cut short, with their size.
    let cases = [
        (
            "duration.csv",
            format!(
                "respondent_id,org_unit,A1,A2,A3,B1,B2,duration_seconds\nr1,36.72,5,2,b,3,b,{}\n",
                "7".repeat(2 * mb)
            ),
            "duration_seconds",
        ),
        (
            "id.csv",
            format!(
                "respondent_id,org_unit,A1,A2,A3,B1,B2\n{id},36.72,5,2,b,3,b\n{id},36.72,5,2,b,3,b\n",
                id = "r".repeat(2 * mb)
            ),
            "duplicate respondent_id",
        ),
        (
            "answer.csv",
            format!(
                "respondent_id,org_unit,A1,A2,A3,B1,B2\n{},36.72,9,2,b,3,b\n",
                "r".repeat(2 * mb)
            ),
            "item 'A1'",
        ),
    ];
    for (name, text, expected) in cases {
        let file = write(dir.path(), name, &text);
        let out = ikd(&["score", "--instrument", &instrument(), p(&file)]);
        let err = error_line(&out);
        assert!(!out.status.success(), "{name}");
        assert!(err.len() < 1024, "{name}: {} bytes of error", err.len());
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            err.contains("bytes)"),
            "{name}: says how long the value was: {err}"
        );
    }

    // 100,000 unknown columns (under the header limit): a few are listed,
    // the rest counted.
    let mut columns = "respondent_id,org_unit,A1,A2,A3,B1,B2".to_owned();
    for k in 0..100_000 {
        columns.push_str(&format!(",x{k}"));
    }
    let wide = write(dir.path(), "wide.csv", &format!("{columns}\n"));
    let out = ikd(&["score", "--instrument", &instrument(), p(&wide)]);
    let err = error_line(&out);
    assert!(!out.status.success());
    assert!(err.len() < 4096, "{} bytes of error", err.len());
    assert!(err.contains("… and 99,990 more"), "{err}");
    // A million columns: over the header limit, refused as such.
    for k in 100_000..1_000_000 {
        columns.push_str(&format!(",x{k}"));
    }
    let wider = write(dir.path(), "wider.csv", &format!("{columns}\n"));
    let out = ikd(&["score", "--instrument", &instrument(), p(&wider)]);
    let err = error_line(&out);
    assert!(err.len() < 1024 && err.contains("longer than"), "{err}");
}

/// Control characters (a NUL byte, an escape) in respondent ids are refused,
/// naming the line and the column.
#[test]
fn control_characters_in_respondent_ids_are_refused_naming_line_and_column() {
    for (id, shown) in [("r\u{0}2", "\\0"), ("r\u{1b}[31m2", "\\u{1b}")] {
        let answers = GOOD.replace("r2,", &format!("{id},"));
        let (out, results, _dir) = score_bad(&answers);
        assert!(!out.status.success(), "accepted {id:?}");
        let err = error_line(&out);
        assert!(
            err.contains("answers.csv:3") && err.contains("column 1 (respondent_id)"),
            "{err}"
        );
        assert!(
            err.contains("control character") && err.contains(shown),
            "{err}"
        );
        assert!(
            !err.contains('\u{0}') && !err.contains('\u{1b}'),
            "echoed raw: {err:?}"
        );
        assert!(!results.exists());
    }
}

/// A plugin lock naming a plugin twice is refused, naming the file, the line
/// of the second entry and the plugin.
#[test]
fn a_lock_with_a_duplicate_entry_is_refused_naming_file_line_and_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("ikd-plugins.lock");
    let out = ikd(&["plugins", "lock", "--out", p(&lock)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&lock).unwrap();
    let first = text.find("[[plugin]]").unwrap();
    let second = text[first + 1..].find("[[plugin]]").map(|k| k + first + 1);
    let entry = &text[first..second.unwrap_or(text.len())];
    let name = entry
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let doubled = format!("{}\n{entry}", text.trim_end());
    let duplicate_line = doubled[..doubled.rfind("[[plugin]]").unwrap()]
        .lines()
        .count()
        + 2;
    std::fs::write(&lock, &doubled).unwrap();
    let answers = write(dir.path(), "answers.csv", GOOD);
    let out = ikd(&[
        "--plugin-lock",
        p(&lock),
        "score",
        "--instrument",
        &instrument(),
        p(&answers),
    ]);
    assert!(!out.status.success(), "accepted:\n{doubled}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:{duplicate_line}", lock.display()))
            && err.contains(&format!("'{name}'"))
            && err.contains("twice"),
        "expected {}:{duplicate_line} and '{name}' in: {err}",
        lock.display()
    );
}

/// SIGTERM (or Ctrl-C) during `ikd score --out` removes the temporary
/// output, and the exit status says the run was interrupted.
#[test]
fn sigterm_during_score_leaves_no_partial_output() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.csv");
    let out = ikd(&[
        "simulate",
        "--instrument",
        "ikd-asn-2025",
        "-n",
        "200000",
        "--out",
        p(&answers),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let results = out_dir.join("results.csv");
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut child = Command::new(ikd_binary())
            .args([
                "score",
                "--instrument",
                "ikd-asn-2025",
                "--out",
                p(&results),
                p(&answers),
            ])
            .env_remove("IKD_PLUGIN_PATH")
            .env_remove("IKD_PLUGIN_LOCK")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let partial = || {
            std::fs::read_dir(&out_dir)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(".ikd-partial-"))
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .collect::<Vec<u64>>()
        };
        // Wait until results are being written, then interrupt.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !partial().iter().any(|&n| n > 0) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "finished before it was interrupted"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "no partial output appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        let left: Vec<u64> = partial();
        assert!(
            left.is_empty(),
            "partial output left behind after signal {signal}: {left:?} bytes"
        );
        assert!(!results.exists());
        assert_eq!(
            out.status.signal(),
            Some(signal),
            "killed by the signal: {:?} {err}",
            out.status
        );
        assert!(err.contains("interrupted"), "{err}");
    }
}
