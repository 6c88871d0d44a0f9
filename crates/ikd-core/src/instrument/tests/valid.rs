//! A valid instrument loads with every field, default and parameter right.

use super::*;
use crate::instrument::{ItemOption, Location, Text, load};
use semver::{Version, VersionReq};
use serde_json::json;
use sha2::{Digest, Sha256};

#[test]
fn header_scoring_and_defaults_are_loaded() {
    let instrument = load_base();
    assert_eq!(instrument.id, "ikd-test");
    assert_eq!(instrument.version, Version::new(1, 2, 3));
    assert_eq!(
        instrument.title,
        Text {
            id: "Uji".into(),
            en: "Test".into()
        }
    );
    assert_eq!(instrument.description, None);
    assert_eq!(instrument.source, Path::new(FILE));
    assert_eq!(instrument.scoring.model, "weighted-index");
    assert_eq!(instrument.scoring.model_version, VersionReq::STAR);
    assert_eq!(instrument.scoring.settings, serde_json::Value::Null);
    assert_eq!(
        (instrument.reporting.min, instrument.reporting.max),
        (0.0, 100.0)
    );
    assert_eq!(instrument.missing.min_answered, 1);
    assert_eq!(instrument.missing.min_answered_fraction, 0.5);
    assert_eq!(
        instrument.missing.min_domains, 2,
        "defaults to every domain"
    );
    assert_eq!(instrument.quality.straight_line_run, 10);
    assert_eq!(instrument.quality.straight_line_all_min, 5);
    assert_eq!(instrument.quality.min_duration_seconds, 0.0);
}

#[test]
fn sha256_is_that_of_the_exact_bytes() {
    let instrument = load_base();
    assert_eq!(
        instrument.sha256,
        hex::encode(Sha256::digest(BASE.as_bytes()))
    );
    let commented = format!("{BASE}# a comment changes the identity\n");
    assert_ne!(
        load_text(&commented).expect("still valid").sha256,
        instrument.sha256
    );
}

#[test]
fn domains_and_indicators_are_loaded_with_defaults_and_locations() {
    let instrument = load_base();
    let codes: Vec<&str> = instrument.domains.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["literasi-digital", "budaya-data"]);
    let [literasi, budaya] = &instrument.domains[..] else {
        panic!("two domains")
    };
    assert_eq!(literasi.plugin, "literasi-digital");
    assert_eq!(literasi.plugin_version, VersionReq::STAR);
    assert_eq!(literasi.weight, 0.6);
    assert_eq!(literasi.settings, serde_json::Value::Null);
    assert_eq!(
        (literasi.min_answered, literasi.min_answered_fraction),
        (None, None)
    );
    assert_eq!(
        literasi.indicators[0].weight, 1.0,
        "indicator weight defaults to 1"
    );
    assert_eq!(
        literasi.location,
        Location {
            line: line_of(BASE, "code = \"literasi-digital\""),
            column: 8
        }
    );
    assert_eq!(budaya.settings, json!({ "threshold": 2 }));
    assert_eq!(budaya.indicators[0].code, "berbagi");
    assert_eq!(budaya.indicators[0].weight, 2.0);
}

#[test]
fn items_keep_options_keys_and_kind_specific_params() {
    let instrument = load_base();
    let [likert, choice] = &instrument.items[..] else {
        panic!("two items")
    };
    assert_eq!(
        likert.location,
        Location {
            line: line_of(BASE, "id = \"LD01\""),
            column: 6
        }
    );
    assert_eq!(likert.scale.as_deref(), Some("setuju-5"));
    assert!(likert.reverse);
    assert_eq!(likert.weight, 1.0, "item weight defaults to 1");
    assert!(likert.key.is_empty() && likert.options.is_empty() && likert.params.is_empty());

    assert_eq!(
        (choice.domain.as_str(), choice.indicator.as_str()),
        ("budaya-data", "berbagi")
    );
    assert_eq!(choice.kind, "single-choice");
    assert!(!choice.reverse, "reverse defaults to false");
    assert_eq!(choice.weight, 2.0);
    assert_eq!(choice.key, ["b"]);
    assert_eq!(
        choice.options,
        [
            ItemOption {
                code: "a".into(),
                label: Text::default(),
                credit: None,
                dont_know: false
            },
            ItemOption {
                code: "b".into(),
                label: Text {
                    id: "Bi".into(),
                    en: "Bee".into()
                },
                credit: Some(1.0),
                dont_know: false,
            },
            ItemOption {
                code: "x".into(),
                label: Text::default(),
                credit: None,
                dont_know: true
            },
        ]
    );
    let params = serde_json::Value::Object(choice.params.clone());
    assert_eq!(
        params,
        json!({ "tolerance": 0.5, "table": [[1, 2], [3, 4]] })
    );
}

#[test]
fn keys_may_be_a_number_or_an_array_of_strings_and_numbers() {
    let keyed = |key: &str| {
        let text = base_with(
            "kind = \"likert\"",
            &format!("kind = \"likert\"\nkey = {key}"),
        );
        load_text(&text).expect("valid").items[0].key.clone()
    };
    assert_eq!(keyed("3"), ["3"]);
    assert_eq!(keyed("2.5"), ["2.5"]);
    assert_eq!(keyed("[\"c\", 1, 0.5]"), ["c", "1", "0.5"]);
}

#[test]
fn optional_sections_override_the_defaults() {
    let text = format!(
        "{BASE}\n[missing]\nmin_answered = 1\nmin_answered_fraction = 0.25\nmin_domains = 1\n\n\
         [quality]\nstraight_line_run = 0\nstraight_line_all_min = 7\nmin_duration_seconds = 240\n"
    );
    let text = with(
        &text,
        "weights_sum = 1.0",
        "weights_sum = 1.0\nmodel_version = \"^0.1\"\n[scoring.settings]\nprior = { mean = 0.0 }\n\
         [scoring.alternatives.irt]\nparams = \"irt-params.csv\"\nreporting = { center = 50.0, scale = 15.0 }",
    );
    let text = with(
        &text,
        "weight = 0.6",
        "weight = 0.6\nmin_answered = 1\nmin_answered_fraction = 1.0\nplugin_version = \"^0.2\"",
    );
    let instrument = load_text(&text).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(instrument.missing.min_answered_fraction, 0.25);
    assert_eq!(instrument.missing.min_domains, 1);
    assert_eq!(instrument.quality.straight_line_run, 0);
    assert_eq!(instrument.quality.straight_line_all_min, 7);
    assert_eq!(instrument.quality.min_duration_seconds, 240.0);
    assert_eq!(
        instrument.scoring.model_version,
        VersionReq::parse("^0.1").expect("valid")
    );
    assert_eq!(
        instrument.scoring.settings,
        json!({ "prior": { "mean": 0.0 } })
    );
    assert_eq!(
        instrument.scoring.alternatives["irt"],
        json!({ "params": "irt-params.csv", "reporting": { "center": 50.0, "scale": 15.0 } })
    );
    let literasi = &instrument.domains[0];
    assert_eq!(
        (literasi.min_answered, literasi.min_answered_fraction),
        (Some(1), Some(1.0))
    );
    assert_eq!(
        literasi.plugin_version,
        VersionReq::parse("^0.2").expect("valid")
    );
}

#[test]
fn scales_and_levels_are_loaded_in_order() {
    let text = base_with(
        "max = 5\n",
        "max = 5\nlabels = [{ id = \"1\", en = \"1\" }, { id = \"2\", en = \"2\" }, { id = \"3\", en = \"3\" }, \
         { id = \"4\", en = \"4\" }, { id = \"5\", en = \"5\" }]\n",
    );
    let instrument = load_text(&text).unwrap_or_else(|error| panic!("{error}"));
    let scale = &instrument.scales[0];
    assert_eq!(
        (scale.id.as_str(), scale.min, scale.max, scale.labels.len()),
        ("setuju-5", 1, 5, 5)
    );
    let levels: Vec<(&str, f64, f64)> = instrument
        .levels
        .iter()
        .map(|l| (l.code.as_str(), l.min, l.max))
        .collect();
    assert_eq!(levels, [("rendah", 0.0, 50.0), ("tinggi", 50.0, 100.0)]);
}

#[test]
fn load_reads_a_file_and_names_a_file_it_cannot_read() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("instrument.toml");
    std::fs::write(&path, BASE).expect("written");
    let instrument = load(&path).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(instrument.source, path);
    assert_eq!(
        instrument.sha256,
        hex::encode(Sha256::digest(BASE.as_bytes()))
    );

    let absent = directory.path().join("absent.toml");
    let error = load(&absent).expect_err("no such file");
    assert_eq!(error.file, absent);
    assert_eq!(error.diagnostics.len(), 1);
    assert!(error.to_string().contains("absent.toml"), "{error}");
    assert!(
        error.diagnostics[0].message.contains("cannot read"),
        "{error}"
    );
}

#[test]
fn the_demo_fixture_loads() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/instruments/demo.toml"
    ));
    let demo = load(path).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        (demo.id.as_str(), demo.version.to_string().as_str()),
        ("demo", "0.1.0")
    );
    let domains: Vec<(&str, &str, f64)> = demo
        .domains
        .iter()
        .map(|d| (d.code.as_str(), d.plugin.as_str(), d.weight))
        .collect();
    assert_eq!(
        domains,
        [
            ("alpha", "minimal-domain", 0.5),
            ("beta", "minimal-domain", 0.5)
        ]
    );
    assert!(demo.domains.iter().all(|d| d.indicators.len() == 2));
    for domain in &demo.domains {
        let items = demo
            .items
            .iter()
            .filter(|item| item.domain == domain.code)
            .count();
        assert!(
            (4..=6).contains(&items),
            "domain {} has {items} items",
            domain.code
        );
    }
    let scales: Vec<(i32, i32)> = demo.scales.iter().map(|s| (s.min, s.max)).collect();
    assert_eq!(scales, [(1, 5), (0, 3)]);
    assert!(
        demo.items
            .iter()
            .any(|item| item.kind == "likert" && item.reverse)
    );
    assert!(
        demo.items
            .iter()
            .any(|item| item.options.iter().any(|o| o.dont_know) && !item.key.is_empty())
    );
    assert!(
        demo.items
            .iter()
            .any(|item| item.options.iter().any(|o| o.credit.is_some()))
    );
    assert_eq!(
        (
            demo.missing.min_answered,
            demo.missing.min_answered_fraction,
            demo.missing.min_domains
        ),
        (2, 0.5, 1)
    );
    assert_eq!(demo.quality.straight_line_run, 10);
    let bands: Vec<(&str, &str, f64, f64)> = demo
        .levels
        .iter()
        .map(|l| (l.name.id.as_str(), l.name.en.as_str(), l.min, l.max))
        .collect();
    assert_eq!(
        bands,
        [
            ("Sangat Rendah", "Very Low", 0.0, 20.0),
            ("Rendah", "Low", 20.0, 40.0),
            ("Sedang", "Moderate", 40.0, 60.0),
            ("Tinggi", "High", 60.0, 80.0),
            ("Sangat Tinggi", "Very High", 80.0, 100.0),
        ]
    );
}

#[test]
fn the_example_in_the_format_reference_loads() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/instrument-format.md"
    ));
    let reference = std::fs::read_to_string(path).expect("docs/instrument-format.md");
    let start = reference.rfind("```toml\n").expect("an example") + "```toml\n".len();
    let length = reference[start..].find("```").expect("the example's end");
    let example =
        load_str(&reference[start..start + length], path).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((example.items.len(), example.levels.len()), (3, 2));
}
