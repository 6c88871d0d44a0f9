//! `ikd irt calibrate` and `ikd irt score` end to end on LSAT7 (Bock &
//! Lieberman, 1970), expanded from pattern counts to one row per examinee.
//! Reference values are mirt's (see `crates/ikd-irt/tests/lsat7.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ikd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ikd"))
        .args(args)
        .output()
        .expect("run ikd")
}

fn ok(args: &[&str]) -> String {
    let out = ikd(args);
    assert!(
        out.status.success(),
        "ikd {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// LSAT7 as DATA.csv, rows in the order of the counts file.
fn lsat7(dir: &Path) -> PathBuf {
    let counts =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ikd-irt/tests/data/lsat7-counts.csv");
    let text = std::fs::read_to_string(counts).unwrap();
    let mut csv = String::from("item1,item2,item3,item4,item5\n");
    for line in text.lines().skip(1) {
        let (pattern, count) = line.rsplit_once(',').unwrap();
        for _ in 0..count.parse::<usize>().unwrap() {
            csv.push_str(pattern);
            csv.push('\n');
        }
    }
    let path = dir.join("lsat7.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn calibrate_and_score_lsat7() {
    let dir = tempfile::tempdir().unwrap();
    let data = lsat7(dir.path());
    let params = dir.path().join("params.csv");
    let summary = ok(&[
        "irt",
        "calibrate",
        "--model",
        "2pl",
        s(&data),
        "--out",
        s(&params),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["converged"], true, "{summary}");
    assert_eq!(summary["persons"], 1000);
    assert_eq!(summary["items"], 5);
    assert_eq!(summary["patterns"], 32);
    let loglik = summary["loglik"].as_f64().unwrap();
    assert!((loglik + 2658.805).abs() < 1e-2, "{loglik}");
    for key in ["cycles", "max_change", "seconds", "se_seconds"] {
        assert!(summary[key].is_number(), "{key}: {summary}");
    }
    // mirt: logLik −2658.805, AIC 5337.61, BIC 5386.688 with 10 parameters;
    // SABIC = 5317.61 + 10·ln(1002/24) = 5354.927.
    assert_eq!(summary["parameters"], 10);
    for (key, mirt) in [("aic", 5337.61), ("bic", 5386.688), ("sabic", 5354.927)] {
        let ours = summary[key].as_f64().unwrap();
        assert!((ours - mirt).abs() < 0.01, "{key}: {ours} vs {mirt}");
    }
    assert_eq!(summary["se"], "observed");

    let text = std::fs::read_to_string(&params).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("item,model,a,d1,b1,se_a,se_d1"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').skip(2).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 5);
    // Item 3: mirt a = 1.706, d = 1.804; b = −d/a.
    assert!(
        (rows[2][0] - 1.706).abs() < 0.01 && (rows[2][1] - 1.804).abs() < 0.01,
        "{rows:?}"
    );
    assert!((rows[2][2] + rows[2][1] / rows[2][0]).abs() < 1e-12);
    // Observed-information SEs; mirt (Richardson, the same matrix): item 1
    // 0.177, 0.131; item 3 0.320, 0.204; item 4 0.134, 0.075.
    for (item, se_a, se_d) in [(0, 0.177, 0.131), (2, 0.320, 0.204), (3, 0.134, 0.075)] {
        let (a, d) = (rows[item][3], rows[item][4]);
        assert!(
            (a - se_a).abs() < 0.01 * se_a + 0.001 && (d - se_d).abs() < 0.01 * se_d + 0.001,
            "item {}: SE {a}, {d} vs mirt {se_a}, {se_d}",
            item + 1
        );
    }

    // EAP to a file: pattern 00000 (first row) is mirt's EAP-sum θ for 0.
    let scores = dir.path().join("scores.csv");
    ok(&[
        "irt",
        "score",
        "--params",
        s(&params),
        s(&data),
        "--out",
        s(&scores),
    ]);
    let text = std::fs::read_to_string(&scores).unwrap();
    let mut lines = text.lines();
    // No id column in the data: persons are numbered by data row.
    assert_eq!(lines.next(), Some("row,theta,se"));
    let eap: Vec<(f64, f64)> = lines
        .enumerate()
        .map(|(k, l)| {
            let mut cells = l.split(',');
            assert_eq!(cells.next(), Some((k + 1).to_string().as_str()));
            (
                cells.next().unwrap().parse().unwrap(),
                cells.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(eap.len(), 1000);
    assert!(
        (eap[0].0 + 1.86979).abs() < 2e-3 && (eap[0].1 - 0.6927).abs() < 2e-3,
        "{:?}",
        eap[0]
    );
    assert!(eap[999].0 > 0.5);

    // EAP-sum to stdout agrees with EAP on the all-0 pattern; ML gives ±inf.
    let out = ok(&[
        "irt",
        "score",
        "--params",
        s(&params),
        "--method",
        "eapsum",
        s(&data),
    ]);
    let first = out.lines().nth(1).unwrap();
    let theta: f64 = first.split(',').nth(1).unwrap().parse().unwrap();
    assert!((theta - eap[0].0).abs() < 1e-5, "{first}");
    let out = ok(&[
        "irt",
        "score",
        "--params",
        s(&params),
        "--method",
        "ml",
        s(&data),
    ]);
    assert_eq!(out.lines().nth(1), Some("1,-inf,inf"));
    assert_eq!(out.lines().last(), Some("1000,inf,inf"));
    let out = ok(&[
        "irt",
        "score",
        "--params",
        s(&params),
        "--method",
        "map",
        s(&data),
    ]);
    let theta: f64 = out
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((theta + 1.8166).abs() < 2e-3, "{theta}");
}

#[test]
fn rasch_reports_the_common_slope_and_graded_items_calibrate() {
    let dir = tempfile::tempdir().unwrap();
    let data = lsat7(dir.path());
    let params = dir.path().join("rasch.csv");
    let summary = ok(&[
        "irt",
        "calibrate",
        "--model",
        "rasch",
        "--tol",
        "1e-6",
        s(&data),
        "--out",
        s(&params),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let a = summary["common_slope"].as_f64().unwrap();
    assert!((a - 1.011).abs() < 2e-3, "{summary}");
    assert!((summary["rasch_latent_variance"].as_f64().unwrap() - a * a).abs() < 1e-12);

    // A small polytomous file with a missing cell and an all-missing row.
    let poly = dir.path().join("poly.csv");
    let mut csv = String::from("q1,q2,q3\n");
    for p in 0..400 {
        let t: i32 = p % 20;
        let cell = |shift: i32| ((t + shift) / 5).clamp(0, 3).to_string();
        let q3 = if p % 7 == 0 {
            String::new()
        } else {
            cell(p % 3)
        };
        csv.push_str(&format!("{},{},{}\n", cell(0), cell(2), q3));
    }
    csv.push_str(",,\n");
    std::fs::write(&poly, csv).unwrap();
    for model in ["grm", "gpcm"] {
        let out = dir.path().join(format!("{model}.csv"));
        let summary = ok(&[
            "irt",
            "calibrate",
            "--model",
            model,
            "--max-cycles",
            "50",
            s(&poly),
            "--out",
            s(&out),
        ]);
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert_eq!(summary["persons"], 400, "{summary}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.starts_with("item,model,a,d1,d2,d3,b1,b2,b3,se_a,se_d1,se_d2,se_d3\n"),
            "{text}"
        );
        let scores = ok(&["irt", "score", "--params", s(&out), s(&poly)]);
        assert_eq!(scores.lines().count(), 402);
        assert_eq!(scores.lines().last(), Some("401,,"), "no answers, no score");
    }
}

#[test]
fn bad_cells_are_reported_with_line_item_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, "a,b\n0,1\n1,x\n1,0\n").unwrap();
    let out = ikd(&[
        "irt",
        "calibrate",
        "--model",
        "2pl",
        s(&data),
        "--out",
        s(&dir.path().join("p.csv")),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3, column 2 (item 'b')") && err.contains("'x'"),
        "{err}"
    );
    assert!(!dir.path().join("p.csv").exists(), "no partial output");

    let params = dir.path().join("params.csv");
    std::fs::write(
        &params,
        "item,model,a,d1,b1\na,2pl,1,0,0\nb,2pl,1.2,0.5,-0.4\n",
    )
    .unwrap();
    std::fs::write(&data, "b,a\n1,0\n2,1\n").unwrap();
    let out = ikd(&["irt", "score", "--params", s(&params), s(&data)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3, column 1 (item 'b'): category 2"),
        "{err}"
    );

    let out = ikd(&[
        "irt",
        "calibrate",
        "--model",
        "4pl",
        s(&data),
        "--out",
        s(&params),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model '4pl'"));
}

/// `ikd irt score` keeps a first column of person ids (one that is not an
/// item of the parameter set), quoting ids as CSV needs; errors in the data
/// still name the line and column of the file as given.
#[test]
fn score_keeps_the_id_column_and_se_columns_are_optional() {
    let dir = tempfile::tempdir().unwrap();
    let data = lsat7(dir.path());
    let params = dir.path().join("params.csv");
    ok(&[
        "irt",
        "calibrate",
        "--model",
        "2pl",
        "--se",
        "none",
        s(&data),
        "--out",
        s(&params),
    ]);
    let text = std::fs::read_to_string(&params).unwrap();
    assert!(text.starts_with("item,model,a,d1,b1\n"), "{text}");

    // Crossprod SEs: item 1 0.176, 0.131 (docs/irt.md).
    let summary = ok(&[
        "irt",
        "calibrate",
        "--model",
        "2pl",
        "--se",
        "crossprod",
        s(&data),
        "--out",
        s(&params),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["se"], "crossprod");
    let text = std::fs::read_to_string(&params).unwrap();
    let item1: Vec<f64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .skip(5)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        (item1[0] - 0.176).abs() < 0.003 && (item1[1] - 0.131).abs() < 0.003,
        "{item1:?}"
    );

    // Ids first, items in another order than PARAMS.csv.
    let with_ids = dir.path().join("ids.csv");
    let body = std::fs::read_to_string(&data).unwrap();
    let mut csv = String::from("person,item5,item1,item2,item3,item4\n");
    for (k, line) in body.lines().skip(1).take(3).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let id = ["p-1", "p,2", "p\"3"][k];
        let quoted = if id.contains([',', '"']) {
            format!("\"{}\"", id.replace('"', "\"\""))
        } else {
            id.to_owned()
        };
        csv.push_str(&format!(
            "{quoted},{},{},{},{},{}\n",
            cells[4], cells[0], cells[1], cells[2], cells[3]
        ));
    }
    std::fs::write(&with_ids, &csv).unwrap();
    let plain = ok(&["irt", "score", "--params", s(&params), s(&data)]);
    let scored = ok(&["irt", "score", "--params", s(&params), s(&with_ids)]);
    let mut reader = csv_rows(&scored);
    assert_eq!(reader.remove(0), ["person", "theta", "se"]);
    let ids: Vec<&str> = reader.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["p-1", "p,2", "p\"3"]);
    for (k, row) in reader.iter().enumerate() {
        let expected = plain.lines().nth(k + 1).unwrap();
        assert_eq!(format!("{},{}", k + 1, row[1..].join(",")), expected);
    }

    // R's write.csv(row.names = TRUE) names the id column "": it becomes `id`.
    std::fs::write(&with_ids, csv.replacen("person", "\"\"", 1)).unwrap();
    let scored = ok(&["irt", "score", "--params", s(&params), s(&with_ids)]);
    assert!(scored.starts_with("id,theta,se\n"), "{scored}");

    // A bad cell: line and column of the file as given (id column counted).
    std::fs::write(&with_ids, csv.replacen("p-1,0", "p-1,7", 1)).unwrap();
    let out = ikd(&["irt", "score", "--params", s(&params), s(&with_ids)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2, column 2 (item 'item5'): category 7"),
        "{err}"
    );
    // A second unknown column is an error, not a second id.
    std::fs::write(&with_ids, csv.replacen("item3", "other", 1)).unwrap();
    let out = ikd(&["irt", "score", "--params", s(&params), s(&with_ids)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("column 5 'other' is not an item"), "{err}");
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut reader = csv_reader(text);
    for record in reader.records() {
        rows.push(record.unwrap().iter().map(str::to_owned).collect());
    }
    rows
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
}

/// Standard errors that cannot be computed (an information matrix that is
/// not positive definite: here four persons, stopped after three cycles)
/// leave NaN cells and say why; the parameters are written and score.
#[test]
fn standard_errors_that_cannot_be_computed_are_nan_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("tiny.csv");
    std::fs::write(&data, "a,b\n0,1\n1,0\n1,1\n0,0\n").unwrap();
    let params = dir.path().join("params.csv");
    let out = ikd(&[
        "irt",
        "calibrate",
        "--model",
        "grm",
        "--max-cycles",
        "3",
        s(&data),
        "--out",
        s(&params),
    ]);
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["se"], serde_json::Value::Null);
    let why = summary["se_error"].as_str().unwrap();
    assert!(why.contains("not positive definite"), "{why}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no standard errors"));
    let text = std::fs::read_to_string(&params).unwrap();
    assert!(
        text.starts_with("item,model,a,d1,b1,se_a,se_d1\n"),
        "{text}"
    );
    assert!(
        text.lines().skip(1).all(|l| l.ends_with(",NaN,NaN")),
        "{text}"
    );
    let scores = ok(&["irt", "score", "--params", s(&params), s(&data)]);
    assert_eq!(scores.lines().count(), 5);
}

/// `--model 3pl` on LSAT7 (five keyed items): a `g` and an `se_g` column,
/// 15 parameters, the prior in the summary, `--choices` changing it, and
/// the file scoring back. (No mirt reference: this checks the plumbing.)
#[test]
fn calibrate_3pl_writes_g_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let data = lsat7(dir.path());
    let params = dir.path().join("params.csv");
    let summary = ok(&[
        "irt",
        "calibrate",
        "--model",
        "3pl",
        "--choices",
        "5",
        "--max-cycles",
        "2000",
        s(&data),
        "--out",
        s(&params),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["model"], "3pl", "{summary}");
    assert_eq!(summary["parameters"], 15, "{summary}");
    assert_eq!(summary["guessing_prior"]["alpha"], 5.0, "{summary}");
    assert_eq!(summary["guessing_prior"]["beta"], 17.0, "{summary}");
    assert!(summary["log_prior"].is_number(), "{summary}");
    let text = std::fs::read_to_string(&params).unwrap();
    assert!(
        text.starts_with("item,model,a,d1,b1,g,se_a,se_d1,se_g\n"),
        "{text}"
    );
    for line in text.lines().skip(1) {
        let g: f64 = line.split(',').nth(5).unwrap().parse().unwrap();
        assert!(g > 0.0 && g < 1.0, "{line}");
    }
    let scores = dir.path().join("scores.csv");
    ok(&[
        "irt",
        "score",
        "--params",
        s(&params),
        s(&data),
        "--out",
        s(&scores),
    ]);
    let text = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(text.lines().count(), 1001);
    // A polytomous item is refused for 3pl with its name.
    let poly = dir.path().join("poly.csv");
    std::fs::write(&poly, "x,y\n0,1\n1,2\n1,0\n0,1\n").unwrap();
    let out = ikd(&[
        "irt",
        "calibrate",
        "--model",
        "3pl",
        s(&poly),
        "--out",
        s(&dir.path().join("p2.csv")),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'y'") && err.contains("3pl"), "{err}");
}
