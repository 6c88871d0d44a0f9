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
    for key in ["cycles", "max_change", "seconds"] {
        assert!(summary[key].is_number(), "{key}: {summary}");
    }

    let text = std::fs::read_to_string(&params).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("item,model,a,d1,b1"));
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
    assert_eq!(lines.next(), Some("theta,se"));
    let eap: Vec<(f64, f64)> = lines
        .map(|l| {
            let (t, e) = l.split_once(',').unwrap();
            (t.parse().unwrap(), e.parse().unwrap())
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
    let theta: f64 = first.split(',').next().unwrap().parse().unwrap();
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
    assert_eq!(out.lines().nth(1), Some("-inf,inf"));
    assert_eq!(out.lines().last(), Some("inf,inf"));
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
        .next()
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
            text.starts_with("item,model,a,d1,d2,d3,b1,b2,b3\n"),
            "{text}"
        );
        let scores = ok(&["irt", "score", "--params", s(&out), s(&poly)]);
        assert_eq!(scores.lines().count(), 402);
        assert_eq!(scores.lines().last(), Some(","), "no answers, no score");
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
        "3pl",
        s(&data),
        "--out",
        s(&params),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model '3pl'"));
}
