//! The `irt` scoring model end to end, through the `ikd` binary and the
//! plugin's C ABI: scoring the bundled IKD-ASN instrument with its
//! `[scoring.alternatives.irt]` parameters, the sha256 pin, `ikd calibrate`,
//! and agreement with the weighted index on simulated answers.

use ikd_tests::{ikd_binary, workspace};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const DOMAINS: [&str; 5] = [
    "literasi-digital",
    "budaya-data",
    "pelayanan-publik",
    "etika-keamanan",
    "kepemimpinan-digital",
];

const LEVELS: [&str; 5] = [
    "sangat-rendah",
    "rendah",
    "sedang",
    "tinggi",
    "sangat-tinggi",
];

fn dir() -> PathBuf {
    workspace().join("instruments/ikd-asn-2025")
}

fn instrument() -> PathBuf {
    dir().join("instrument.toml")
}

/// Runs `ikd` with the bundled plugins only (found beside the binary).
fn ikd(args: &[&str]) -> Output {
    Command::new(ikd_binary())
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .env_remove("IKD_LOCK_MODE")
        .env_remove("IKD_INSTRUMENT_PATH")
        .output()
        .expect("ikd runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// Simulated answers, made once per test process: (directory, answers.csv).
fn simulated() -> &'static (tempfile::TempDir, PathBuf) {
    static SIM: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    SIM.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let answers = tmp.path().join("answers.csv");
        let sim = ikd(&[
            "simulate",
            "--instrument",
            p(&instrument()),
            "-n",
            "3000",
            "--seed",
            "7",
            "--out",
            p(&answers),
        ]);
        assert!(sim.status.success(), "{}", stderr(&sim));
        (tmp, answers)
    })
}

/// `ikd score --format jsonl` with extra arguments; one JSON value per respondent.
fn score_jsonl(extra: &[&str], answers: &Path) -> Vec<serde_json::Value> {
    let instrument = instrument();
    let mut args = vec!["score", "--instrument", p(&instrument), "--format", "jsonl"];
    args.extend_from_slice(extra);
    args.push(p(answers));
    let out = ikd(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn number(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// The bundled parameters' sha256, as the instrument pins it.
fn pinned_sha256() -> String {
    let inst = ikd_core::instrument::load(&instrument()).expect("the instrument loads");
    inst.scoring.alternatives["irt"]["params_sha256"]
        .as_str()
        .expect("params_sha256 in [scoring.alternatives.irt]")
        .to_owned()
}

#[test]
fn the_bundled_parameters_are_pinned_by_the_instrument() {
    let sha = ikd_core::host::sha256_file(&dir().join("irt-params.csv")).unwrap();
    assert_eq!(sha, pinned_sha256());
}

#[test]
fn irt_scores_every_domain_with_standard_errors_and_levels() {
    let (_, answers) = simulated();
    let results = score_jsonl(&["--model", "irt"], answers);
    assert_eq!(results.len(), 3000);
    let mut seen_levels = std::collections::BTreeSet::new();
    let mut scored = 0;
    for r in &results {
        let domains = r["domains"].as_array().unwrap();
        assert_eq!(domains.len(), DOMAINS.len());
        for (d, code) in domains.iter().zip(DOMAINS) {
            assert_eq!(d["code"], code);
            let Some(score) = number(&d["score"]) else {
                assert!(d["level"].is_null(), "{d}");
                continue;
            };
            scored += 1;
            assert!((0.0..=100.0).contains(&score), "{d}");
            let se = number(&d["se"]).unwrap_or_else(|| panic!("a scored domain has an SE: {d}"));
            // 11–13 items per domain: EAP SEs of a few points on the 15-per-SD scale.
            assert!(se > 0.5 && se < 12.0, "{d}");
            let level = d["level"]["code"].as_str().unwrap();
            assert!(LEVELS.contains(&level), "{d}");
            seen_levels.insert(level.to_owned());
        }
        if let Some(index) = number(&r["index"]) {
            let se = number(&r["index_se"]).expect("an index SE");
            assert!(
                (0.0..=100.0).contains(&index) && se > 0.0 && se < 6.0,
                "{r}"
            );
        }
        let provenance = &r["provenance"];
        assert_eq!(provenance["model"]["name"], "irt");
        assert_eq!(provenance["model_settings"]["method"], "eap");
        assert_eq!(
            provenance["model_settings"]["params_sha256"],
            pinned_sha256().as_str()
        );
    }
    assert!(scored > 3000 * 5 * 9 / 10, "{scored} scored domains");
    // 50 ± 15·θ: the middle three levels at least are reached.
    for level in ["rendah", "sedang", "tinggi"] {
        assert!(seen_levels.contains(level), "{seen_levels:?}");
    }
}

#[test]
fn a_params_file_that_does_not_match_its_sha256_is_refused() {
    let (_, answers) = simulated();
    let settings = serde_json::json!({
        "params": "irt-params.csv",
        "params_sha256": "0".repeat(64),
    })
    .to_string();
    let out = ikd(&[
        "score",
        "--instrument",
        p(&instrument()),
        "--model",
        "irt",
        "--model-settings",
        &settings,
        p(answers),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("irt") && err.contains("params_sha256") && err.contains(&pinned_sha256()),
        "{err}"
    );
    // The same file with its true sha256 is accepted.
    let settings = serde_json::json!({
        "params": "irt-params.csv",
        "params_sha256": pinned_sha256(),
        "method": "map",
    })
    .to_string();
    let results = score_jsonl(&["--model", "irt", "--model-settings", &settings], answers);
    assert_eq!(results.len(), 3000);
    assert_eq!(results[0]["provenance"]["model_settings"]["method"], "map");
}

/// Rows of a PARAMS.csv by item: (model, a, intercepts).
fn read_params(path: &Path) -> HashMap<String, (String, f64, Vec<f64>)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let d_columns: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with('d'))
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let d = d_columns
                .iter()
                .filter(|&&i| !r[i].is_empty())
                .map(|&i| r[i].parse().unwrap())
                .collect();
            (r[0].to_owned(), (r[1].to_owned(), r[2].parse().unwrap(), d))
        })
        .collect()
}

/// The standard error columns of a PARAMS.csv by item: (se_a, se_d…);
/// empty when the file has none.
fn read_errors(path: &Path) -> HashMap<String, (f64, Vec<f64>)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let Some(se_a) = header.iter().position(|h| h == "se_a") else {
        return HashMap::new();
    };
    let se_d: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("se_d"))
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let d = se_d
                .iter()
                .filter(|&&i| !r[i].is_empty())
                .map(|&i| r[i].parse().unwrap())
                .collect();
            (r[0].to_owned(), (r[se_a].parse().unwrap(), d))
        })
        .collect()
}

#[test]
fn calibrate_recovers_the_bundled_parameters_and_the_plugin_accepts_its_file() {
    let (tmp, answers) = simulated();
    let params = tmp.path().join("calibrated.csv");
    let out = ikd(&[
        "calibrate",
        "--instrument",
        p(&instrument()),
        p(answers),
        "--out",
        p(&params),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
    let domains = summary["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 5);
    assert_eq!(summary["se"], "observed");
    for d in domains {
        assert_eq!(d["converged"], true, "{d}");
        assert_eq!(d["persons"], 3000, "{d}");
        let loglik = d["loglik"].as_f64().unwrap();
        assert!(loglik < 0.0, "{d}");
        // Information criteria: k free parameters (a and the intercepts of
        // each graded item), n = 3000.
        let k = d["parameters"].as_u64().unwrap() as f64;
        assert!(k >= 2.0 * d["items"].as_f64().unwrap(), "{d}");
        let close = |key: &str, want: f64| {
            let got = d[key].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-6 * want.abs(),
                "{key}: {got} vs {want}"
            );
        };
        close("aic", -2.0 * loglik + 2.0 * k);
        close("bic", -2.0 * loglik + k * 3000f64.ln());
        close("sabic", -2.0 * loglik + k * (3002.0f64 / 24.0).ln());
        assert_eq!(d["se"], "observed", "{d}");
    }
    let sha = summary["params_sha256"].as_str().unwrap();
    assert_eq!(sha, ikd_core::host::sha256_file(&params).unwrap());
    let toml = summary["toml"].as_str().unwrap();
    assert!(
        toml.starts_with("[scoring.alternatives.irt]\n") && toml.contains(sha),
        "{toml}"
    );

    // The same 60 items as the bundled file (calibrated on 20,000 other
    // simulated respondents); slopes close, intercepts of the same items
    // with the same categories close.
    let bundled = read_params(&dir().join("irt-params.csv"));
    let fresh = read_params(&params);
    assert_eq!(fresh.len(), 60);
    // The fresh file has standard errors: one se_a and one se_d per intercept,
    // positive and below the parameters' own size for 3000 persons.
    let errors = read_errors(&params);
    assert_eq!(errors.len(), 60);
    for (item, (se_a, se_d)) in &errors {
        assert_eq!(se_d.len(), fresh[item].2.len(), "{item}");
        assert!(*se_a > 0.0 && *se_a < 0.5, "{item}: se_a {se_a}");
        assert!(se_d.iter().all(|&e| e > 0.0 && e < 1.5), "{item}: {se_d:?}");
    }
    let (mut a_bundled, mut a_fresh) = (Vec::new(), Vec::new());
    let (mut d_bundled, mut d_fresh) = (Vec::new(), Vec::new());
    for (item, (model, a, d)) in &fresh {
        let (bundled_model, bundled_a, bundled_d) = &bundled[item];
        assert_eq!((model.as_str(), bundled_model.as_str()), ("grm", "grm"));
        a_bundled.push(*bundled_a);
        a_fresh.push(*a);
        if d.len() == bundled_d.len() {
            d_fresh.extend_from_slice(d);
            d_bundled.extend_from_slice(bundled_d);
        }
    }
    let mean_a_diff = a_fresh
        .iter()
        .zip(&a_bundled)
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / 60.0;
    let a_correlation = pearson(&a_fresh, &a_bundled);
    let d_correlation = pearson(&d_fresh, &d_bundled);
    let mean_d_diff = d_fresh
        .iter()
        .zip(&d_bundled)
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / d_fresh.len() as f64;
    println!(
        "recovery vs bundled: slopes r = {a_correlation:.3}, mean |Δa| = {mean_a_diff:.3}; \
         intercepts r = {d_correlation:.3}, mean |Δd| = {mean_d_diff:.3} over {}",
        d_fresh.len()
    );
    assert!(a_correlation > 0.9, "slopes correlate {a_correlation}");
    assert!(mean_a_diff < 0.2, "mean |Δa| {mean_a_diff}");
    assert!(d_correlation > 0.95, "intercepts correlate {d_correlation}");
    assert!(mean_d_diff < 0.35, "mean |Δd| {mean_d_diff}");

    // The plugin accepts the file (standard error columns and all), pinned
    // by the sha256 the summary gave, and scores as with the same parameters
    // without those columns.
    let settings = serde_json::json!({ "params": p(&params), "params_sha256": sha }).to_string();
    let results = score_jsonl(&["--model", "irt", "--model-settings", &settings], answers);
    assert_eq!(results.len(), 3000);
    assert!(number(&results[0]["domains"][0]["se"]).is_some());
    let bare = tmp.path().join("calibrated-no-se.csv");
    let out = ikd(&[
        "calibrate",
        "--instrument",
        p(&instrument()),
        p(answers),
        "--se",
        "none",
        "--out",
        p(&bare),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["se"], serde_json::Value::Null);
    assert!(read_errors(&bare).is_empty());
    assert_eq!(read_params(&bare), fresh, "the same parameters");
    let settings = serde_json::json!({
        "params": p(&bare),
        "params_sha256": summary["params_sha256"],
    })
    .to_string();
    let without = score_jsonl(&["--model", "irt", "--model-settings", &settings], answers);
    for (a, b) in results.iter().zip(&without).take(100) {
        assert_eq!(a["domains"], b["domains"]);
    }
}

#[test]
fn irt_and_weighted_index_domain_scores_agree_on_simulated_answers() {
    let (_, answers) = simulated();
    let irt = score_jsonl(&["--model", "irt"], answers);
    let wi = score_jsonl(&[], answers);
    assert_eq!(irt.len(), wi.len());
    let mut report = Vec::new();
    for (d, code) in DOMAINS.iter().enumerate() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (x, y) in irt.iter().zip(&wi) {
            assert_eq!(x["respondent_id"], y["respondent_id"]);
            if let (Some(s), Some(t)) = (
                number(&x["domains"][d]["score"]),
                number(&y["domains"][d]["score"]),
            ) {
                a.push(s);
                b.push(t);
            }
        }
        let r = pearson(&a, &b);
        report.push(format!("{code} r = {r:.4} (n = {})", a.len()));
        assert!(r > 0.8, "{code}: irt vs weighted-index r = {r}");
    }
    let (a, b): (Vec<f64>, Vec<f64>) = irt
        .iter()
        .zip(&wi)
        .filter_map(|(x, y)| Some((number(&x["index"])?, number(&y["index"])?)))
        .unzip();
    let r = pearson(&a, &b);
    report.push(format!("index r = {r:.4} (n = {})", a.len()));
    println!("irt vs weighted-index: {}", report.join("; "));
    assert!(r > 0.8, "index: r = {r}");
}
