//! The bundled IKD-ASN 2025 instrument end to end: it validates against the
//! five domain plugins, its example answers score to exactly the committed
//! expected results, it has the shape the codebook promises, and simulated
//! answers spread over every level with positively related domains.

use ikd_tests::{ikd_binary, workspace};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DOMAINS: [&str; 5] = [
    "literasi-digital",
    "budaya-data",
    "pelayanan-publik",
    "etika-keamanan",
    "kepemimpinan-digital",
];

/// The item kind each domain plugin adds to the SDK's `likert` and `single-choice`.
const OWN_KIND: [(&str, &str); 5] = [
    ("literasi-digital", "multi-select"),
    ("budaya-data", "numeric-reading"),
    ("pelayanan-publik", "ranking"),
    ("etika-keamanan", "phishing-spot"),
    ("kepemimpinan-digital", "sjt-rating"),
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

#[test]
fn the_instrument_validates_against_the_bundled_plugins() {
    let out = ikd(&["validate", p(&instrument())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ikd-asn-2025 1.0.0") && err.contains("5 domains, 60 items"),
        "{err}"
    );
}

/// What the issue and the codebook promise about the instrument's shape.
#[test]
fn the_instrument_has_the_documented_shape() {
    let inst = ikd_core::instrument::load(&instrument()).expect("the instrument loads");
    assert_eq!(inst.id, "ikd-asn-2025");
    assert!(inst.items.len() >= 50, "{} items", inst.items.len());
    assert_eq!(
        inst.domains
            .iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>(),
        DOMAINS
    );
    for (domain, own_kind) in OWN_KIND {
        let d = inst
            .domains
            .iter()
            .find(|d| d.code == domain)
            .expect("the domain");
        assert_eq!(d.plugin, domain, "the plugin is named after its domain");
        assert!((d.weight - 0.2).abs() < 1e-12, "{domain}: equal weights");
        assert!(
            (2..=4).contains(&d.indicators.len()),
            "{domain}: {} indicators",
            d.indicators.len()
        );
        let items: Vec<_> = inst.items.iter().filter(|i| i.domain == domain).collect();
        assert!(items.len() >= 10, "{domain}: {} items", items.len());
        let count = |pred: &dyn Fn(&&ikd_core::instrument::Item) -> bool| {
            items.iter().filter(|i| pred(i)).count()
        };
        assert!(
            count(&|i| i.kind == "likert" && i.reverse) >= 2,
            "{domain}: reverse-keyed Likert"
        );
        assert!(
            count(&|i| i.kind == "likert" && !i.reverse) >= 1,
            "{domain}: Likert"
        );
        assert!(
            count(&|i| i.kind == own_kind) >= 2,
            "{domain}: {own_kind} items"
        );
        assert!(
            count(&|i| i.kind == "single-choice" && !i.key.is_empty()) >= 1,
            "{domain}: keyed single choice"
        );
        for indicator in &d.indicators {
            assert!(
                items.iter().any(|i| i.indicator == indicator.code),
                "{domain}/{}: an indicator without items",
                indicator.code
            );
        }
        for item in &items {
            let prefix = match domain {
                "literasi-digital" => "LD",
                "budaya-data" => "BD",
                "pelayanan-publik" => "PP",
                "etika-keamanan" => "EK",
                _ => "KD",
            };
            assert!(item.id.starts_with(prefix), "{}", item.id);
        }
    }
    assert!(
        inst.items
            .iter()
            .any(|i| i.options.iter().any(|o| o.dont_know)),
        "some knowledge items offer \"don't know\""
    );
    let levels: Vec<(&str, f64, f64)> = inst
        .levels
        .iter()
        .map(|l| (l.code.as_str(), l.min, l.max))
        .collect();
    assert_eq!(
        levels,
        [
            ("sangat-rendah", 0.0, 20.0),
            ("rendah", 20.0, 40.0),
            ("sedang", 40.0, 60.0),
            ("tinggi", 60.0, 80.0),
            ("sangat-tinggi", 80.0, 100.0),
        ]
    );
    assert_eq!(inst.missing.min_answered, 5);
    assert_eq!(inst.missing.min_domains, 4);
}

#[test]
fn the_example_answers_score_to_the_committed_expected_results() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results.csv");
    let answers = dir().join("examples/answers.csv");
    let out = ikd(&[
        "score",
        "--instrument",
        p(&instrument()),
        p(&answers),
        "--out",
        p(&results),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = std::fs::read_to_string(&results).unwrap();
    let expected = std::fs::read_to_string(dir().join("examples/expected-results.csv")).unwrap();
    if got != expected {
        let diff: Vec<String> = got
            .lines()
            .zip(expected.lines())
            .enumerate()
            .filter(|(_, (g, e))| g != e)
            .take(5)
            .map(|(n, (g, e))| format!("line {}:\n  got      {g}\n  expected {e}", n + 1))
            .collect();
        panic!(
            "ikd score no longer reproduces examples/expected-results.csv ({} vs {} lines); \
             if the change is intended, regenerate the file and re-check the codebook's worked \
             example:\n{}",
            got.lines().count(),
            expected.lines().count(),
            diff.join("\n")
        );
    }

    // The example exercises what the codebook says it does.
    let mut reader = csv::Reader::from_reader(expected.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 36);
    let row = |id: &str| {
        rows.iter()
            .find(|r| &r[0] == id)
            .unwrap_or_else(|| panic!("respondent {id}"))
    };
    let units: BTreeSet<&str> = rows.iter().map(|r| &r[1]).collect();
    assert_eq!(
        units.into_iter().collect::<Vec<_>>(),
        ["34.03/dinsos", "36.72/diskominfo", "64.72/bappeda"]
    );
    // The codebook's worked example.
    let r = row("CLG-DKI-001");
    assert_eq!(&r[col("literasi-digital.score")], "57.7778");
    assert_eq!(&r[col("index")], "71.388");
    // A whole domain skipped: that domain is missing, the index uses the other four.
    let r = row("GKD-DSS-009");
    assert_eq!(&r[col("kepemimpinan-digital.score")], "");
    assert_eq!(&r[col("kepemimpinan-digital.answered")], "0");
    assert_eq!(&r[col("index")], "28.1007");
    // Two domains missing (one by the 60 % rule): no index.
    let r = row("SMD-BAP-011");
    assert_eq!(&r[col("budaya-data.answered")], "7");
    assert_eq!(&r[col("budaya-data.score")], "");
    assert_eq!(&r[col("index")], "");
    assert_eq!(&r[col("level")], "");
    // Quality flags.
    assert_eq!(&row("SMD-BAP-007")[col("flags")], "straight-line-all");
    assert_eq!(&row("GKD-DSS-004")[col("flags")], "too-fast");
    let levels: BTreeSet<&str> = rows
        .iter()
        .map(|r| &r[col("level")])
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        levels.len(),
        5,
        "the example reaches every level: {levels:?}"
    );
}

#[test]
fn plugins_list_shows_the_five_domain_plugins_and_the_model() {
    let out = ikd(&["plugins", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().expect("a JSON array");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed: {rows:?}"))
    };
    for (domain, own_kind) in OWN_KIND {
        let r = row(domain);
        assert_eq!(r["status"], "loaded", "{r}");
        assert_eq!(r["kind"], "domain", "{r}");
        let kinds: Vec<&str> = r["item_kinds"]
            .as_array()
            .expect("item kinds")
            .iter()
            .filter_map(|k| k.as_str())
            .collect();
        for kind in ["likert", "single-choice", own_kind] {
            assert!(kinds.contains(&kind), "{domain} owns {kind}: {kinds:?}");
        }
    }
    let model = row("weighted-index");
    assert_eq!(model["status"], "loaded", "{model}");
    assert_eq!(model["kind"], "scoring-model", "{model}");
}

fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    sxy / (sxx * syy).sqrt()
}

#[test]
fn simulated_answers_reach_every_level_and_domains_correlate_positively() {
    let tmp = tempfile::tempdir().unwrap();
    let answers = tmp.path().join("answers.csv");
    let results = tmp.path().join("results.csv");
    let sim = ikd(&[
        "simulate",
        "--instrument",
        "ikd-asn-2025",
        "-n",
        "2000",
        "--seed",
        "11",
        "--out",
        p(&answers),
    ]);
    assert!(sim.status.success(), "{}", stderr(&sim));
    let out = ikd(&[
        "score",
        "--instrument",
        "ikd-asn-2025",
        p(&answers),
        "--out",
        p(&results),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut reader = csv::Reader::from_path(&results).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2000);

    let (index, level) = (col("index"), col("level"));
    let mut seen = BTreeSet::new();
    for r in &rows {
        if let Ok(x) = r[index].parse::<f64>() {
            assert!((0.0..=100.0).contains(&x), "index {x}");
            seen.insert(r[level].to_owned());
        }
    }
    let scored = rows.iter().filter(|r| !r[index].is_empty()).count();
    assert!(scored > 1900, "nearly everyone gets an index: {scored}");
    assert_eq!(
        seen,
        LEVELS
            .iter()
            .map(|l| l.to_string())
            .collect::<BTreeSet<_>>(),
        "indices fall in every level"
    );

    let scores: Vec<Vec<Option<f64>>> = DOMAINS
        .iter()
        .map(|d| {
            let c = col(&format!("{d}.score"));
            rows.iter().map(|r| r[c].parse::<f64>().ok()).collect()
        })
        .collect();
    for a in 0..DOMAINS.len() {
        for b in a + 1..DOMAINS.len() {
            let pairs: Vec<(f64, f64)> = scores[a]
                .iter()
                .zip(&scores[b])
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                .collect();
            assert!(pairs.len() > 1900, "{} pairs", pairs.len());
            let r = pearson(&pairs);
            assert!(
                r > 0.0,
                "{} and {} correlate positively: r = {r:.3}",
                DOMAINS[a],
                DOMAINS[b]
            );
        }
    }
}
