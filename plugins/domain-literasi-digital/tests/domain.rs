//! The plugin as the engine drives it: a configured domain scoring whole
//! batches, refusing bad specifications, giving feedback and simulating.

use ikd_domain_literasi_digital::{LiterasiDigital, ikd_plugin_entry_v1};
use ikd_plugin_sdk::ItemSpec;
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::DomainConfig;
use ikd_plugin_sdk::testing::{self, ANSWERED, INVALID, NOT_APPLICABLE, SKIPPED, item};

/// LD-01 Likert 1..5, LD-02 single choice keyed `b`, LD-03 multi-select keyed {a, c, d}.
fn items() -> Vec<ItemSpec> {
    let likert = testing::likert("LD-01", 1, 5, false);
    vec![
        likert,
        item("LD-02", "single-choice", &["a", "b", "c"], &["b"]),
        item(
            "LD-03",
            "multi-select",
            &["a", "b", "c", "d", "e"],
            &["a", "c", "d"],
        ),
    ]
}

fn config(items: Vec<ItemSpec>) -> DomainConfig {
    testing::config("literasi-digital", items)
}

fn instance() -> DomainInstance<LiterasiDigital> {
    DomainInstance::new(&config(items())).expect("a valid domain")
}

#[test]
fn a_batch_is_scored_with_statuses_and_located_violations() {
    let out = instance()
        .score_items(&answer_batch([
            // r0: 4 → 4; b (keyed) → 1; a|b|c → right 2, wrong 1 → (2 − 1)/3
            ["4", "b", "a|b|c"],
            // r1: skipped, not applicable, an unknown code
            ["", "NA", "a|z"],
            // r2: off the scale, not an option, '-' selects nothing → 0/3 = 0
            ["6", "x", "-"],
        ]))
        .expect("the batch is scored");
    assert_eq!((out.respondents, out.items), (3, 3));
    assert_eq!(
        out.status,
        [
            ANSWERED,
            ANSWERED,
            ANSWERED,
            SKIPPED,
            NOT_APPLICABLE,
            INVALID,
            INVALID,
            INVALID,
            ANSWERED
        ]
    );
    assert_eq!(out.scores[0], 4.0);
    assert_eq!(out.scores[1], 1.0);
    assert!((out.scores[2] - 1.0 / 3.0).abs() < 1e-12);
    assert!(out.scores[3..8].iter().all(|s| s.is_nan()));
    assert_eq!(out.scores[8], 0.0);

    let located = testing::located(&out.violations);
    assert_eq!(
        located,
        [
            (1, "LD-03", "answer"),
            (2, "LD-01", "answer"),
            (2, "LD-02", "answer")
        ]
    );
    assert!(
        out.violations[0]
            .message
            .contains("'z' is not one of the options")
    );
}

#[test]
fn the_domain_describes_each_item() {
    let d = instance().describe();
    assert_eq!(d.score_min, [1.0, 0.0, 0.0]);
    assert_eq!(d.score_max, [5.0, 1.0, 1.0]);
    assert_eq!(d.categories, [5, 2, 0]);
}

#[test]
fn specification_errors_of_every_item_are_reported_together() {
    let mut bad = items();
    bad[2].key = vec!["a".into(), "q".into()];
    bad[2].options[4].code = "a".into();
    bad.push(item("LD-04", "ranking", &["a", "b", "c"], &["a", "b", "c"]));
    let err = testing::refusal::<LiterasiDigital>(&config(bad));
    let located: Vec<(&str, &str)> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            ("LD-03", "options[4].code"),
            ("LD-03", "key[1]"),
            ("LD-04", "kind")
        ]
    );
    assert!(
        err.message.contains("3 item specification error(s)"),
        "{}",
        err.message
    );
    assert!(err.violations[2].message.contains("multi-select"));
}

ikd_plugin_sdk::domain_conformance_tests!(
    LiterasiDigital,
    config: config(items()),
    bands: 5,
    entry: ikd_plugin_entry_v1,
    kinds: ["likert", "single-choice", "multi-select"],
);
